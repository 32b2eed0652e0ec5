package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Depth returns how many messages of the named queue are visible now and
// how many are hidden because they are in flight or delayed.
func (d *Driver) Depth(ctx context.Context, queueName string) (visible, inFlight int, err error) {
	if err := d.enter(); err != nil {
		return 0, 0, fmt.Errorf("count messages in queue %q: %w", queueName, err)
	}
	defer d.leave()

	err = d.reader.QueryRowContext(ctx,
		`SELECT count(*) FILTER (WHERE visible_at <= :now), count(*) FILTER (WHERE visible_at > :now)
		FROM messages WHERE queue = :queue`,
		sql.Named("now", time.Now().UnixMilli()),
		sql.Named("queue", queueName),
	).Scan(&visible, &inFlight)
	if err != nil {
		return 0, 0, fmt.Errorf("count messages in queue %q: %w", queueName, err)
	}

	return visible, inFlight, nil
}
