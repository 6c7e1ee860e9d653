export * from './common.ts';
export * from './meta.ts';
export * from './providers.ts';
export * from './resolve.ts';
export * from './route.ts';
export * from './verifier.ts';
export * from './webhooktrigger.ts';
export * from './workflow.ts';
