import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { type Action, ACTIONS, type Caller } from './caller.js';

export interface NewServiceKey {
  id: string;
  name: string;
  keyHash: string;
  keyPrefix: string;
  tenants: string[];
  integrations: string[];
  actions: Action[];
}

@Injectable()
export class ServiceKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(key: NewServiceKey): Promise<void> {
    await this.prisma.serviceKey.create({ data: key });
  }

  async findActiveByHash(keyHash: string): Promise<Caller | undefined> {
    const row = await this.prisma.serviceKey.findUnique({ where: { keyHash } });
    if (!row || row.revokedAt) return undefined;
    return {
      keyId: row.id,
      name: row.name,
      tenants: row.tenants,
      integrations: row.integrations,
      actions: row.actions.filter((a): a is Action => (ACTIONS as readonly string[]).includes(a)),
    };
  }

  async revoke(id: string): Promise<boolean> {
    const { count } = await this.prisma.serviceKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count === 1;
  }

  async list(): Promise<
    Array<{ id: string; name: string; keyPrefix: string; revoked: boolean; createdAt: Date }>
  > {
    const rows = await this.prisma.serviceKey.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      keyPrefix: r.keyPrefix,
      revoked: !!r.revokedAt,
      createdAt: r.createdAt,
    }));
  }
}
