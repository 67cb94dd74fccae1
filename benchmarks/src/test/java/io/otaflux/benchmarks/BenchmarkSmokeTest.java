package io.otaflux.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Proves the harness works without running the benchmarks: one short JMH iteration of the core
 * pipeline on a small image, in this JVM. The real runs are {@code benchmarks/jmh.sh} and
 * {@code benchmarks/e2e.sh} (see RESULTS.md).
 */
class BenchmarkSmokeTest {

  @Test
  void pipelineBenchmarkRunsOneShortIteration() throws RunnerException {
    Options options = new OptionsBuilder()
        .include(PipelineBenchmark.class.getName() + ".update")
        .param("imageMiB", "4")
        .param("chunkSize", "65536")
        .param("chunksInFlight", "8")
        .forks(0)
        .warmupIterations(0)
        .measurementIterations(1)
        .measurementTime(TimeValue.milliseconds(200))
        .verbosity(VerboseMode.SILENT)
        .build();

    Collection<RunResult> results = new Runner(options).run();

    assertThat(results).hasSize(1);
    RunResult result = results.iterator().next();
    assertThat(result.getPrimaryResult().getSampleCount()).isPositive();
    assertThat(result.getPrimaryResult().getScore()).isPositive();
  }
}
