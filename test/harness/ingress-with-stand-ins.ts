// Test-only entry: the ingress with its outbound calls (certificates, SubscribeURL, key sets)
// trusting the test's own CA and sent to loopback stand-ins for the providers' hosts. The first
// argument is a JSON file {ca, hosts}; the rest are the ingress's flags. The production entry
// (ingress/server.ts) cannot be given these: only code passes them to `main`.
import { readFileSync } from 'node:fs';
import { main } from '../../ingress/server.ts';

const [file, ...argv] = process.argv.slice(2);
const testing = JSON.parse(readFileSync(file!, 'utf8'));
main(argv, process.env, testing).catch((err) => {
  console.error(err);
  process.exit(1);
});
