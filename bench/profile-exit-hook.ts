// Preloaded into the gateway when the benchmark profiles it (--cpu-prof):
// Node writes the profile on a normal exit only, and the gateway's own
// SIGTERM handling ends by re-raising the signal, so SIGUSR2 exits cleanly.
process.once('SIGUSR2', () => process.exit(0));
