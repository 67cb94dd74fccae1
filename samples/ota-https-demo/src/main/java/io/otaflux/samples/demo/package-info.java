/**
 * The original M5ez {@code OTA_https} demo, reborn for a gateway's terminal: update to firmware 2
 * and back to firmware 1 over pinned HTTPS, reboot, confirm, roll back, abort.
 */
@NullMarked
package io.otaflux.samples.demo;

import org.jspecify.annotations.NullMarked;
