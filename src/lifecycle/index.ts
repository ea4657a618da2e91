export * from './policy.js';
export * from './evaluate.js';
export * from './preview.js';
