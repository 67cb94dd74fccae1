package io.otaflux.lwm2m;

import java.util.List;
import java.util.Map;

import org.eclipse.leshan.client.resource.BaseInstanceEnabler;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.model.ResourceModel.Type;
import org.eclipse.leshan.core.node.LwM2mResource;
import org.eclipse.leshan.core.request.argument.Arguments;
import org.eclipse.leshan.core.response.ExecuteResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.core.response.WriteResponse;

/**
 * Object 5, instance 0, for Leshan: reads answer from a snapshot of the {@link FirmwareMachine},
 * writes and executes are the machine's inputs (answered at once on Californium's thread), and the
 * resources the machine changed are told to Leshan with no lock of ours held. The work itself
 * (downloads, activation, the pending file) is {@link FirmwareUpdates}'.
 */
final class FirmwareUpdateObject extends BaseInstanceEnabler {

  private static final List<Integer> RESOURCES = List.of(0, 1, 2, 3, 5, 6, 7, 8, 9);
  /** Resource 8's value for HTTPS. */
  private static final long HTTPS = 3;

  private final FirmwareUpdates updates;

  FirmwareUpdateObject(FirmwareUpdates updates) {
    super(0);
    this.updates = updates;
    updates.onChanged(this::changed);
  }

  @Override
  public ReadResponse read(LwM2mServer server, int resourceId) {
    FirmwareMachine now = updates.now();
    switch (resourceId) {
      case FirmwareMachine.PACKAGE_URI:
        return ReadResponse.success(resourceId, now.packageUri());
      case FirmwareMachine.STATE:
        return ReadResponse.success(resourceId, (long) now.state().code());
      case FirmwareMachine.RESULT:
        return ReadResponse.success(resourceId, (long) now.result().code());
      case FirmwareMachine.PKG_NAME:
        return ReadResponse.success(resourceId, now.packageName());
      case FirmwareMachine.PKG_VERSION:
        return ReadResponse.success(resourceId, now.packageVersion());
      case 8:
        return ReadResponse.success(resourceId, Map.of(0, HTTPS), Type.INTEGER);
      case 9:
        return ReadResponse.success(resourceId, 0L); // pull only
      default:
        return super.read(server, resourceId);
    }
  }

  @Override
  public WriteResponse write(LwM2mServer server, boolean replace, int resourceId, LwM2mResource value) {
    if (resourceId == FirmwareMachine.PACKAGE) {
      return WriteResponse.badRequest("this device pulls its firmware over HTTPS: write the Package URI (/5/0/1)");
    }
    if (resourceId == FirmwareMachine.PACKAGE_URI) {
      Object uri = value.getValue();
      return updates.writeUri(uri == null ? "" : uri.toString()) ? WriteResponse.success()
          : WriteResponse.methodNotAllowed();
    }
    return super.write(server, replace, resourceId, value);
  }

  @Override
  public ExecuteResponse execute(LwM2mServer server, int resourceId, Arguments arguments) {
    if (resourceId == FirmwareMachine.UPDATE) {
      return updates.executeUpdate() ? ExecuteResponse.success() : ExecuteResponse.methodNotAllowed();
    }
    return super.execute(server, resourceId, arguments);
  }

  @Override
  public List<Integer> getAvailableResourceIds(ObjectModel model) {
    return RESOURCES;
  }

  /** Tells Leshan (never called with a lock of ours held: see {@link FirmwareUpdates}). */
  private void changed(int resource) {
    if (getLwM2mClient() == null && listeners.isEmpty()) {
      return;
    }
    fireResourceChange(resource);
  }
}
