/**
 * Stage benchmarks (JMH) and the abort-latency probe behind {@code benchmarks/RESULTS.md}.
 */
@NullMarked
package io.otaflux.benchmarks;

import org.jspecify.annotations.NullMarked;
