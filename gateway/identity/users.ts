import type { DataSource, EntityManager } from 'typeorm';
import { newId } from '../../common/ids';
import type { Role } from '../../common/signed-identity';
import { AuthError } from './errors';
import { User } from './entities';

export const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;

export function checkUsername(username: unknown): string {
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw new AuthError(400, 'INVALID_USERNAME', 'A username is 3–64 characters: lower-case letters, digits, dot, dash, underscore');
  }
  return username;
}

export function findUser(db: DataSource | EntityManager, username: string): Promise<User | null> {
  return db.getRepository(User).findOneBy({ username });
}

export interface NewUser {
  id?: string;
  username: string;
  role: Role;
  institutionId?: string | null;
  patientId?: string | null;
  practitionerId?: string | null;
}

export async function createUser(db: DataSource | EntityManager, input: NewUser): Promise<User> {
  const user: User = {
    id: input.id ?? newId('usr'),
    username: input.username,
    role: input.role,
    institutionId: input.institutionId ?? null,
    patientId: input.patientId ?? null,
    practitionerId: input.practitionerId ?? null,
    createdAt: new Date(),
  };
  await db.getRepository(User).insert(user);
  return user;
}
