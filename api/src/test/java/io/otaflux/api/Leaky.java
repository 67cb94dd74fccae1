package io.otaflux.api;

import java.util.List;

import io.otaflux.internal.Origin;

/** A fixture for {@link ApiSurfaceTest}: what a leak looks like (public only so that it is listed). */
public class Leaky {

  public List<Origin> origins() {
    return List.of();
  }

  public void hidden(Hidden hidden) {
  }

  void notApi(Origin origin) {
  }

  @Override
  public String toString() {
    return "leaky";
  }

  static final class Hidden {
  }
}
