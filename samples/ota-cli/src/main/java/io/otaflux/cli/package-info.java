/**
 * The {@code ota} command: how a person, a boot script and the acceptance tests drive OtaFlux.
 * Its options, JSON and exit codes are fixed by docs/cli.md.
 */
@NullMarked
package io.otaflux.cli;

import org.jspecify.annotations.NullMarked;
