/** Entry of the supervisor process when berth runs unbundled: `node main.js <project>` (see run.ts). */
import { runSupervisor } from './run.js';

await runSupervisor(process.argv[2]);
