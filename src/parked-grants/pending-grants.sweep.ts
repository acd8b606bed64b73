import { Injectable } from '@nestjs/common';
import { ParkedGrants } from './parked-grants.service.js';

/** Revokes grants nobody finalized in time (the work is ParkedGrants.expireUnfinalized). */
@Injectable()
export class PendingGrantsSweep {
  constructor(private readonly grants: ParkedGrants) {}

  sweep(): Promise<number> {
    return this.grants.expireUnfinalized();
  }
}
