package dev.switchboard.operations;

/**
 * What the worker reports to the node's metrics (api/Metrics implements it), so the operations
 * package needs nothing from the metrics registry. Called on the worker's context; implementations
 * only bump pre-registered meters.
 */
public interface OpMeters {
  OpMeters NONE = new OpMeters() {
    @Override
    public void started() {
    }

    @Override
    public void ended(String outcome, long millis) {
    }
  };

  /** An operation was accepted by this node's worker. */
  void started();

  /** An operation run here reached its terminal: {@code done}, {@code error} or {@code cancelled}. */
  void ended(String outcome, long millis);
}
