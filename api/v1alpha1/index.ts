export * from './common.ts';
export * from './meta.ts';
export * from './references.ts';
export * from './route.ts';
export * from './webhooktrigger.ts';
export * from './workflow.ts';
export * from './workflowlisting.ts';
