/**
 * What grid placement, pre-trade checks and the grid service need of the kill switch: whether it is on. The risk
 * service implements it; the processor, which the risk service in turn drives to stop grids, takes only this, so the
 * two are built in order without late binding.
 */
export interface KillSwitchReader {
  isKilled(): Promise<boolean>;
}
