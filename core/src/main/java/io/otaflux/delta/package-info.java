/**
 * Paying only for what changed: compressed images streamed through the update pipeline, and
 * delta updates from static files.
 *
 * <p>The publisher writes, next to the image, a chunked compressed form of it and an index of its
 * chunks ({@link io.otaflux.delta.PublishedImage}); the signed manifest binds both. A device wraps
 * its network source in an {@code ImageTransfer}: it copies the chunks the running
 * slot already holds (each verified as it is read), fetches the others with HTTP Range requests
 * (each verified as it arrives), and the pipeline checks the whole image's SHA-256 at the end.
 * The formats are described on {@link io.otaflux.delta.ChunkIndex}.
 */
@NullMarked
package io.otaflux.delta;

import org.jspecify.annotations.NullMarked;
