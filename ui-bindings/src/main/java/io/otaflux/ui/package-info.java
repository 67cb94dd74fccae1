/**
 * Progress and abort bindings for an update: a framework-neutral view model
 * ({@link io.otaflux.ui.UpdateView}), a console progress bar with an abort key
 * ({@link io.otaflux.ui.ConsoleProgressBar}) and a local web status page with an Abort button
 * ({@link io.otaflux.ui.WebStatusPage}).
 */
@NullMarked
package io.otaflux.ui;

import org.jspecify.annotations.NullMarked;
