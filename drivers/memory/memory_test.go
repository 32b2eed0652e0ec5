package memory_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/testing/drivertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivers.Driver { return memory.New() })
}

func BenchmarkSendReceiveAck(b *testing.B) {
	drivertest.Benchmark(b, func(b *testing.B) drivers.Driver { return memory.New() })
}
