package io.otaflux.lwm2m;

import java.util.HashMap;
import java.util.List;

import org.eclipse.leshan.client.resource.BaseInstanceEnabler;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.model.ResourceModel.Type;
import org.eclipse.leshan.core.request.argument.Arguments;
import org.eclipse.leshan.core.response.ExecuteResponse;
import org.eclipse.leshan.core.response.ReadResponse;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Object 3, instance 0: manufacturer, model, serial number (the endpoint), the firmware version of
 * the active slot, and Reboot, which runs the reboot hook off Californium's thread.
 */
final class DeviceObject extends BaseInstanceEnabler {

  private static final List<Integer> RESOURCES = List.of(0, 1, 2, 3, 4, 11, 16);
  private static final int FIRMWARE_VERSION = 3;

  private final String manufacturer;
  private final String model;
  private final String serial;
  private final Runnable rebootHook;
  private final Scheduler work;
  private volatile String firmwareVersion = "";

  DeviceObject(String manufacturer, String model, String serial, Runnable rebootHook, Scheduler work) {
    super(0);
    this.manufacturer = manufacturer;
    this.model = model;
    this.serial = serial;
    this.rebootHook = rebootHook;
    this.work = work;
  }

  /** The active slot's version changed (or was read for the first time). */
  void firmwareVersion(String version) {
    if (!version.equals(firmwareVersion)) {
      firmwareVersion = version;
      fireResourceChange(FIRMWARE_VERSION);
    }
  }

  String firmwareVersion() {
    return firmwareVersion;
  }

  @Override
  public ReadResponse read(LwM2mServer server, int resourceId) {
    switch (resourceId) {
      case 0:
        return ReadResponse.success(resourceId, manufacturer);
      case 1:
        return ReadResponse.success(resourceId, model);
      case 2:
        return ReadResponse.success(resourceId, serial);
      case FIRMWARE_VERSION:
        return ReadResponse.success(resourceId, firmwareVersion);
      case 11:
        return ReadResponse.success(resourceId, new HashMap<Integer, Long>(java.util.Map.of(0, 0L)), Type.INTEGER);
      case 16:
        return ReadResponse.success(resourceId, "U");
      default:
        return super.read(server, resourceId);
    }
  }

  @Override
  public ExecuteResponse execute(LwM2mServer server, int resourceId, Arguments arguments) {
    if (resourceId == 4) {
      Mono.fromRunnable(rebootHook).subscribeOn(work).subscribe(v -> { }, e -> { });
      return ExecuteResponse.success();
    }
    return super.execute(server, resourceId, arguments);
  }

  @Override
  public List<Integer> getAvailableResourceIds(ObjectModel objectModel) {
    return RESOURCES;
  }
}
