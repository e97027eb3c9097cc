/** `poolgate <command>`: start the local stack, or mint a dev token for it. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const { startLocalStack } = await import('../local/main');
      await startLocalStack({ printUrls: true, handleSignals: true });
      return 0;
    }
    case 'dev-token': {
      const email = rest[0];
      if (!email || !email.includes('@')) {
        process.stderr.write('usage: poolgate dev-token <email>\n');
        return 2;
      }
      const { devToken } = await import('../local/dev-token');
      process.stdout.write(`${await devToken(email)}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command: ${command}\n${USAGE}`);
      return 2;
  }
}

const USAGE = `usage: poolgate <command>

commands:
  start               run poolgate locally (HTTP API, Step Functions, DynamoDB, ModelArts simulator)
  dev-token <email>   print a bearer token for <email> that the local stack accepts
`;
