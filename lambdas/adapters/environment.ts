/** Reads configuration from the environment, failing at cold start when something is missing. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function optionalEnv(name: string): string | undefined {
  return process.env[name] || undefined;
}

/** A variable that must be `true` or `false`. */
export function booleanEnv(name: string): boolean {
  const value = requiredEnv(name);
  if (value !== 'true' && value !== 'false')
    throw new Error(`environment variable ${name} must be true or false, got ${value}`);
  return value === 'true';
}
