/** This build's version, reported in heartbeats. */
export const VERSION = '0.1.0';
