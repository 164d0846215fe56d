import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A gateway started by a test that names no DATA_DIR (and keeps the default
// SQLite store) must not write the repository's ./data: it gets one under
// the temp directory, per Jest worker. Specs that test DATA_DIR set their own.
process.env.DATA_DIR ??= join(tmpdir(), `longlink-jest-data-${process.pid}`);
