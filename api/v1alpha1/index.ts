export * from './common.ts';
export * from './handshakes.ts';
export * from './meta.ts';
export * from './route.ts';
export * from './webhooktrigger.ts';
export * from './workflow.ts';
