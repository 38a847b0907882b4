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
export { envoyStatusLabels, registerComplianceMetrics } from './metrics.ts';
export { buildOscalAssessmentResults, oscalControlId, oscalVersion, prepareOscalExport } from './oscal.ts';
export type { OscalExport, OscalRequest } from './oscal.ts';
export {
  checkFramework,
  complianceOverview,
  envoyComplianceReport,
  frameworkReport,
  reportLimits,
} from './reports.ts';
export type { ComplianceOverview, EnvoyComplianceReport, FailingEnvoy, FrameworkReport } from './reports.ts';
export type { RiskScore, RiskTerms } from './risk.ts';
export type { ControlSummary, FrameworkSummary } from './tally.ts';
