/** tsipsec public API. Only re-exports live here. */
export type * from './crypto/types.js';
