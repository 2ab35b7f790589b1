import { Brackets } from 'typeorm';
import type { ResolverMap } from '../../common/resolver-map';
import { notFound, badInput } from '../../common/errors';
import { pageQuery, parsePage, toConnection, type PageArgs, type SortColumn } from '../../common/pagination';
import { CalendarDate, DateTime } from '../../common/scalars';
import type { SubgraphContext } from '../kit/context';
import { byId, groupedBy } from '../kit/loaders';
import { consentResolvers } from './consent-resolvers';
import { Institution, Patient, PatientIdentifier, Practitioner } from './entities';
import { patientFilter } from '../../consent/patient-filter';
import { reachable, unreachablePatient } from './reach';

type Ctx = SubgraphContext;
type Ref = { id: string };

const patientLoader = (ctx: Ctx) => byId(ctx, Patient, 'patient');
const institutionLoader = (ctx: Ctx) => byId(ctx, Institution, 'institution');
const practitionerLoader = (ctx: Ctx) => byId(ctx, Practitioner, 'practitioner');

async function required<T>(value: Promise<T | null>, kind: string, id: string): Promise<T> {
  const row = await value;
  if (!row) throw notFound(kind, id);
  return row;
}

const humanName = (p: { givenName: string; familyName: string }) => ({
  given: p.givenName.split(' ').filter(Boolean),
  family: p.familyName,
  text: `${p.givenName} ${p.familyName}`,
});

const PATIENT_ORDER: SortColumn[] = [{ column: 'p.id', direction: 'ASC' }];

export const resolvers: ResolverMap<Ctx> = {
  Date: CalendarDate,
  DateTime,
  Mutation: consentResolvers.Mutation,

  Query: {
    ...consentResolvers.Query,
    async patient(_: unknown, { id }: Ref, ctx: Ctx) {
      if (await reachable(ctx, id)) return required(patientLoader(ctx).load(id), 'Patient', id);
      throw unreachablePatient(ctx);
    },

    async patients(_: unknown, args: PageArgs & { institutionId?: string | null }, ctx: Ctx) {
      const page = parsePage(args, PATIENT_ORDER.length);
      if (args.institutionId === '') throw badInput('institutionId must not be empty', 'institutionId');
      const visible = await patientFilter(
        ctx.consent.engine.db,
        await ctx.access.principalSet(),
        { category: 'DEMOGRAPHICS', action: 'read', purpose: ctx.identity.purpose },
        { id: 'p.id', homeInstitution: 'p.institution_id' },
        (ids) => ctx.access.allowed(ids, 'DEMOGRAPHICS'),
        ctx.identity.subject,
      );
      // A token without the read scope lists nobody (every decision above was a deny too).
      if (!ctx.identity.scopes.includes('read')) visible.sql = '1 = 0';
      const base = () => {
        const qb = ctx.db.getRepository(Patient).createQueryBuilder('p').where(visible.sql, visible.params);
        if (args.institutionId) qb.andWhere('p.institution_id = :inst', { inst: args.institutionId });
        return qb;
      };
      const rows = await pageQuery(base(), PATIENT_ORDER, page).getMany();
      for (const row of rows) patientLoader(ctx).prime(row.id, row);
      return {
        ...toConnection(rows, page, (p) => [p.id]),
        // Only counted when asked for: graphql-js calls function-valued properties.
        totalCount: () => base().getCount(),
      };
    },

    institution: (_: unknown, { id }: Ref, ctx: Ctx) => required(institutionLoader(ctx).load(id), 'Institution', id),
    institutions: (_: unknown, __: unknown, ctx: Ctx) => ctx.db.getRepository(Institution).find({ order: { id: 'ASC' } }),
    practitioner: (_: unknown, { id }: Ref, ctx: Ctx) => required(practitionerLoader(ctx).load(id), 'Practitioner', id),
    practitioners: (_: unknown, args: { nameStartsWith: string; first?: number | null }, ctx: Ctx) => practitionersNamed(ctx, args),
  },

  Patient: {
    __resolveReference: (ref: Ref, ctx: Ctx) => required(patientLoader(ctx).load(ref.id), 'Patient', ref.id),
    institution: (p: Patient, _: unknown, ctx: Ctx) => required(institutionLoader(ctx).load(p.institutionId), 'Institution', p.institutionId),
    name: (p: Patient) => humanName(p),
    identifiers: (p: Patient, _: unknown, ctx: Ctx) =>
      groupedBy(ctx, PatientIdentifier, 'patientId', 'identifier', { system: 'ASC' }).load(p.id),
    consents: consentResolvers.Patient.consents,
  },

  Institution: {
    __resolveReference: (ref: Ref, ctx: Ctx) => required(institutionLoader(ctx).load(ref.id), 'Institution', ref.id),
    practitioners: (i: Institution, _: unknown, ctx: Ctx) =>
      groupedBy(ctx, Practitioner, 'institutionId', 'practitioner', { id: 'ASC' }).load(i.id),
  },

  Practitioner: {
    __resolveReference: (ref: Ref, ctx: Ctx) => required(practitionerLoader(ctx).load(ref.id), 'Practitioner', ref.id),
    name: (p: Practitioner) => humanName(p),
    institution: (p: Practitioner, _: unknown, ctx: Ctx) =>
      required(institutionLoader(ctx).load(p.institutionId), 'Institution', p.institutionId),
  },
};

/** The name-prefix search behind the portal's person suggestions: in SQL, indexed by nothing but bounded by `first`. */
function practitionersNamed(ctx: Ctx, args: { nameStartsWith: string; first?: number | null }): Promise<Practitioner[]> {
  const prefix = args.nameStartsWith.trim().toLowerCase();
  const first = args.first ?? 10;
  if (!prefix || prefix.length > 100) throw badInput('nameStartsWith is 1 to 100 characters', 'nameStartsWith');
  if (!Number.isInteger(first) || first < 1 || first > 20) throw badInput('first is 1 to 20', 'first');
  // The prefix is a LIKE pattern of itself only: %, _ and the escape are escaped.
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return ctx.db
    .getRepository(Practitioner)
    .createQueryBuilder('p')
    .where(
      new Brackets((q) =>
        q
          .where("LOWER(p.givenName) LIKE :pattern ESCAPE '\\'", { pattern })
          .orWhere("LOWER(p.familyName) LIKE :pattern ESCAPE '\\'")
          .orWhere("LOWER(p.givenName || ' ' || p.familyName) LIKE :pattern ESCAPE '\\'"),
      ),
    )
    .orderBy('p.familyName', 'ASC')
    .addOrderBy('p.givenName', 'ASC')
    .addOrderBy('p.id', 'ASC')
    .limit(first)
    .getMany();
}
