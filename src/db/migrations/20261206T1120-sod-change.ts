import { sql, type Kysely } from 'kysely';

/**
 * A change to a group's separation-of-duties matrix is an application (purpose `sod_change`),
 * approved through a flow of its own that only a security auditor of the head company decides.
 * One such application waits at a time per group. Every existing group gets that flow here;
 * `createGroup` gives it to new ones (the same definition, `sodChangeFlowDefinition`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table flows drop constraint flows_purpose_check;
    alter table flows add constraint flows_purpose_check check (purpose in ('seal_use', 'lifecycle', 'sod_change'));
    alter table applications drop constraint applications_purpose_check;
    alter table applications add constraint applications_purpose_check
      check (purpose in ('seal_use', 'lifecycle', 'sod_change'));
    create unique index applications_one_pending_sod_change on applications (group_id)
      where purpose = 'sod_change' and status = 'pending';

    create temporary table sod_flows on commit drop as
      select g.id as group_id, c.id as company_id, gen_random_uuid() as flow_id, gen_random_uuid() as version_id
        from groups g join companies c on c.group_id = g.id and c.parent_id is null;
    insert into flows (id, group_id, company_id, purpose, category, seal_id, name, current_version, created_by)
      select flow_id, group_id, company_id, 'sod_change', null, null, '职责分离矩阵变更 (separation of duties)', 1, null
        from sod_flows;
    insert into flow_versions (id, group_id, flow_id, version, definition, created_by)
      select version_id, group_id, flow_id, 1,
             jsonb_build_object(
               'levels', jsonb_build_array(jsonb_build_object(
                 'name', '安全审计员审批 (security auditor)',
                 'mode', 'any',
                 'approvers', jsonb_build_array(jsonb_build_object('type', 'role', 'role', 'security_auditor', 'companyId', company_id)),
                 'deciderRole', jsonb_build_object('role', 'security_auditor', 'companyId', company_id))),
               'cc', jsonb_build_array(),
               'allowSameApproverAcrossLevels', false),
             null
        from sod_flows;
  `.execute(db);
}

/** Going back, the matrix changes that were applications are forgotten (their audit events stay). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create temporary table sod_applications on commit drop as
      select id from applications where purpose = 'sod_change';
    delete from approval_tasks where application_id in (select id from sod_applications);
    delete from application_cc where application_id in (select id from sod_applications);
    delete from applications where id in (select id from sod_applications);
    delete from flow_versions where flow_id in (select id from flows where purpose = 'sod_change');
    delete from flows where purpose = 'sod_change';
    drop index applications_one_pending_sod_change;
    alter table applications drop constraint applications_purpose_check;
    alter table applications add constraint applications_purpose_check check (purpose in ('seal_use', 'lifecycle'));
    alter table flows drop constraint flows_purpose_check;
    alter table flows add constraint flows_purpose_check check (purpose in ('seal_use', 'lifecycle'));
  `.execute(db);
}
