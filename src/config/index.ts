/** tsipsec configuration: swanctl.conf parsing, validation and loading. */
export { ConfigError, formatConfigIssue } from './errors.js';
export type { ConfigIssue, SourceLocation } from './errors.js';
export { findSection, parseSwanctl, parseSwanctlFile } from './swanctl-parser.js';
export type { IncludeHost, ParseOptions, ParseResult, SettingsReference, SettingsSection, SettingsValue } from './swanctl-parser.js';
export * from './types.js';
export { validateSwanctl, DEFAULT_CHILD_REKEY_TIME_SEC, DEFAULT_IKE_PORT, DEFAULT_IKE_REKEY_TIME_SEC, DEFAULT_REPLAY_WINDOW } from './validate.js';
export type { ValidateOptions, ValidateResult } from './validate.js';
export { loadSwanctlConfig } from './load.js';
export type { LoadOptions, LoadResult } from './load.js';
export { checkProposal, checkProposalList, PROPOSAL_KEYWORDS, ProposalKeywordKind } from './proposals.js';
export type { ProposalProtocol } from './proposals.js';
export { parseTrafficSelector } from './traffic-selector.js';
export { decodeSecret, parseBool, parseBytes, parseDurationSec } from './values.js';
export type { Parsed } from './values.js';
export { nodeConfigFileSystem, nodeIncludeHost } from './node-fs.js';
