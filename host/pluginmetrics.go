package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	protobuf "google.golang.org/protobuf/proto"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// pluginMetricsTimeout bounds one plugin's Metrics call during a scrape.
const pluginMetricsTimeout = 2 * time.Second

// listenerLabel is the label the host adds to each plugin metric.
const listenerLabel = "listener"

// gatherPluginMetrics collects the metrics that running plugins register
// with pluginapi.Registry, labelled with their listener's name. A plugin
// whose call fails or times out is skipped and logged at debug, so one
// stuck plugin cannot break a scrape.
func (h *Host) gatherPluginMetrics() ([]*dto.MetricFamily, error) {
	h.mu.Lock()
	listeners := append([]*listener(nil), h.listeners...)
	h.mu.Unlock()

	byName := map[string]*dto.MetricFamily{}
	for _, l := range listeners {
		families, err := l.pluginMetrics()
		if err != nil {
			l.logger.Debug("read plugin metrics failed", "error", err)
			continue
		}
		for _, family := range families {
			merged, ok := byName[family.GetName()]
			if !ok {
				byName[family.GetName()] = family
				continue
			}
			merged.Metric = append(merged.Metric, family.Metric...)
		}
	}

	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]*dto.MetricFamily, 0, len(names))
	for _, name := range names {
		out = append(out, byName[name])
	}
	return out, nil
}

// pluginMetrics calls Metrics on the listener's running plugin and adds
// the listener label to each metric.
func (l *listener) pluginMetrics() ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pluginMetricsTimeout)
	defer cancel()

	instance := l.supervisor.Current()
	if instance == nil {
		return nil, errors.New("no plugin is running")
	}
	response, err := instance.Listener().Metrics(ctx, &proto.Empty{})
	if err != nil {
		return nil, fmt.Errorf("call Metrics: %w", err)
	}

	var families []*dto.MetricFamily
	reader := bytes.NewReader(response.Families)
	for {
		family := &dto.MetricFamily{}
		err := protodelim.UnmarshalFrom(reader, family)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode plugin metrics: %w", err)
		}
		for _, metric := range family.Metric {
			metric.Label = append(metric.Label, &dto.LabelPair{
				Name:  protobuf.String(listenerLabel),
				Value: protobuf.String(l.cfg.Name),
			})
		}
		families = append(families, family)
	}
	return families, nil
}
