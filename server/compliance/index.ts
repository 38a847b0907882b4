export { createComplianceService } from './service.ts';
export type {
  ComplianceDeps,
  ComplianceHost,
  ComplianceRun,
  ComplianceService,
  EnvoyReport,
  WaiverView,
} from './service.ts';
export { controlState, controlStates, coveragePct, evaluateEnvoy } from './model.ts';
export type {
  ClaimingResource,
  ControlState,
  ControlStatus,
  EnvoyCompliance,
  FrameworkStatus,
  ResourceOutcome,
} from './model.ts';
export { riskFormula, riskScore, riskWeights } from './risk.ts';
export type { RiskScore, RiskTerms } from './risk.ts';
export type { ControlSummary, FrameworkSummary } from './tally.ts';
