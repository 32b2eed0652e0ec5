package supervisor

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

func TestStartAppliesLimits(t *testing.T) {
	t.Parallel()
	spec := behaveSpec(t)
	spec.MemoryLimit = 64 << 20
	spec.CPULimit = 90 * time.Second
	logger, logs := newTestLogger()

	instance := startInstance(t, spec, logger)

	limits := readLimits(t, instance.Pid())
	assert.Equal(t, [2]string{"90", "90"}, limits["Max cpu time"], "soft and hard limit in seconds")

	addressSpace := limits["Max address space"]
	assert.Equal(t, addressSpace[0], addressSpace[1], "soft and hard limit are equal")
	bytes, err := strconv.ParseUint(addressSpace[0], 10, 64)
	require.NoError(t, err, "address space limit %q", addressSpace[0])
	mapped, err := mappedBytes(instance.Pid())
	require.NoError(t, err)
	assert.Greater(t, bytes, uint64(spec.MemoryLimit), "the limit adds memory_limit to what the plugin has mapped")
	assert.LessOrEqual(t, bytes, mapped+uint64(spec.MemoryLimit), "the plugin has mapped no less than at start")

	assert.Contains(t, logs.String(), "plugin resource limits applied")
}

func TestStartWithoutLimitsLeavesDefaults(t *testing.T) {
	t.Parallel()
	logger, _ := newTestLogger()

	instance := startInstance(t, behaveSpec(t), logger)

	limits := readLimits(t, instance.Pid())
	assert.Equal(t, [2]string{"unlimited", "unlimited"}, limits["Max address space"])
	assert.Equal(t, [2]string{"unlimited", "unlimited"}, limits["Max cpu time"])
}

// memoryFailure matches the Go runtime's fatal errors when the address
// space limit refuses a mapping. Which one comes depends on what maps
// first: the heap ("out of memory"), or a new OS thread's stack
// ("newosproc", errno 12 ENOMEM).
var memoryFailure = regexp.MustCompile(`out of memory|cannot allocate memory|newosproc|errno=12`)

func TestMemoryLimitEndsAllocatingPlugin(t *testing.T) {
	t.Parallel()
	spec := behaveSpec(t)
	spec.MemoryLimit = 64 << 20
	logger, logs := newTestLogger()
	instance := startInstance(t, spec, logger)

	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	_, err := instance.Listener().Handle(ctx, &proto.HandleRequest{
		Message: &proto.Message{Id: "m1", Queue: "jobs", Body: []byte(`{"action": "allocate", "mb": 512}`), ReceiveCount: 1},
	})

	require.Error(t, err, "the plugin dies before it answers")
	require.Eventually(t, instance.Exited, within, 20*time.Millisecond, "the plugin process ends")
	assert.Equal(t, "exit status 2", instance.ExitStatus(), "the Go runtime exits with status 2 on a fatal error")
	require.Eventually(t, func() bool { return memoryFailure.MatchString(logs.String()) }, within, 20*time.Millisecond,
		"the plugin's stderr reaches the log with the runtime's reason")
}

func TestCPUSeconds(t *testing.T) {
	t.Parallel()

	tests := []struct {
		limit time.Duration
		want  uint64
	}{
		{limit: time.Second, want: 1},
		{limit: 90 * time.Second, want: 90},
		{limit: 1500 * time.Millisecond, want: 2},
		{limit: time.Nanosecond, want: 1},
	}

	for _, tt := range tests {
		t.Run(tt.limit.String(), func(t *testing.T) {
			t.Parallel()

			assert.Equal(t, tt.want, cpuSeconds(tt.limit))
		})
	}
}

// readLimits returns the soft and hard value of each row of
// /proc/PID/limits by the row's name.
func readLimits(t *testing.T, pid int) map[string][2]string {
	t.Helper()

	file, err := os.Open("/proc/" + strconv.Itoa(pid) + "/limits")
	require.NoError(t, err)
	defer file.Close()

	limits := make(map[string][2]string)
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		// The name fills the first 26 columns, and the soft and hard
		// limits follow.
		line := scanner.Text()
		if len(line) < 26 {
			continue
		}
		fields := strings.Fields(line[26:])
		if len(fields) >= 2 {
			limits[strings.TrimSpace(line[:26])] = [2]string{fields[0], fields[1]}
		}
	}
	require.NoError(t, scanner.Err())
	return limits
}
