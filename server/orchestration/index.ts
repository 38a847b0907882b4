export { parseSelection, resolveTargets, targetLimits } from './targets.ts';
export type { TargetDeps, TargetSelection } from './targets.ts';
