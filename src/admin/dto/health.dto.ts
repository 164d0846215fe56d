import { ApiProperty } from '@nestjs/swagger';

/** `GET /health`: readiness with counts. */
export class HealthDto {
  @ApiProperty({ enum: ['ok', 'shutting_down'], description: '`ok` while serving (200), `shutting_down` from SIGTERM on (503)' })
  status!: 'ok' | 'shutting_down';
  @ApiProperty({ type: 'integer', description: 'Open long-link sockets, logged in or not' })
  connections!: number;
  @ApiProperty({ type: 'integer', description: 'Logged-in clients on this node' })
  clients!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The long-link listener port, null when it is not listening' })
  tcpPort!: number | null;
}

const PHASES = ['serving', 'draining', 'stopping'];

/** `GET /health/live`. */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'], description: 'Always `ok`: the process answers' })
  status!: 'ok';
  @ApiProperty({ enum: PHASES, description: '`serving`, `draining` (SIGTERM, listeners still open) or `stopping`' })
  phase!: string;
}

/** `GET /health/ready`. */
export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'draining'], description: '`ready` (200) or `draining` (503)' })
  status!: 'ready' | 'draining';
  @ApiProperty({ enum: PHASES, description: '`serving`, `draining` or `stopping`' })
  phase!: string;
}
