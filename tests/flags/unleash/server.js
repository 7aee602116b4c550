// A real Unleash server for the flags adapter tests, on the database and port the test gives.
// Environment: UNLEASH_DATABASE_URL, UNLEASH_PORT, UNLEASH_ADMIN_TOKEN.
const unleash = require('unleash-server');

unleash
  .start({
    db: { connectionString: process.env.UNLEASH_DATABASE_URL, ssl: false },
    server: { port: Number(process.env.UNLEASH_PORT), host: '127.0.0.1' },
    authentication: {
      initApiTokens: [
        {
          environment: '*',
          project: '*',
          secret: process.env.UNLEASH_ADMIN_TOKEN,
          type: 'admin',
          tokenName: 'shipcheck-tests',
        },
      ],
    },
    getLogger: () => ({
      debug() {},
      info() {},
      warn() {},
      error: (...args) => console.error(...args),
      fatal: (...args) => console.error(...args),
    }),
  })
  .then(() => console.log('unleash ready'))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
