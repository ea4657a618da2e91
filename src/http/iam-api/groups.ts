import type { IamGroup } from '../../iam/identity-store.js';
import { allow, changed, isoDate, list, NAME, newUniqueId, noSuchEntity, optional, PATH, required, x, type QueryCall, type QueryOperation } from './common.js';
import { allowOnExistingHolder, holderArn, noSuchHolder } from './holder-policies.js';
import { pathPrefix, userXml } from './users.js';

function groupXml(group: IamGroup): string {
  return `<Path>${x(group.path)}</Path><GroupName>${x(group.name)}</GroupName><GroupId>${x(group.groupId)}</GroupId><Arn>${x(group.arn)}</Arn><CreateDate>${isoDate(group.createdAt)}</CreateDate>`;
}

function groupName(call: QueryCall): string {
  return required(call, 'GroupName', NAME, 128);
}

/** AddUserToGroup, RemoveUserFromGroup: authorized on the group; both must exist. */
async function membership(call: QueryCall): Promise<{ group: string; user: string }> {
  const group = groupName(call);
  const user = required(call, 'UserName', NAME, 64);
  await allowOnExistingHolder(call, { type: 'group', name: group });
  if (!(await holderArn(call, { type: 'user', name: user })).exists) throw noSuchHolder({ type: 'user', name: user });
  return { group, user };
}

/** IAM groups and their members (their policies: holder-policies.ts). */
export const groupOperations: Record<string, QueryOperation> = {
  async CreateGroup(call) {
    const name = groupName(call);
    const path = optional(call, 'Path', PATH, 512) ?? '/';
    const arn = `arn:aws:iam::${call.accountId}:group${path}${name}`;
    await allow(call, arn);
    const group: IamGroup = { accountId: call.accountId, name, groupId: newUniqueId('AGPA'), path, arn, createdAt: Date.now() };
    await call.api.identities.createGroup(group);
    changed(call);
    return `<Group>${groupXml(group)}</Group>`;
  },

  async GetGroup(call) {
    const name = groupName(call);
    await allowOnExistingHolder(call, { type: 'group', name });
    const [group, users] = await Promise.all([call.api.identities.getGroup(call.accountId, name), call.api.identities.listGroupMembers(call.accountId, name)]);
    if (!group) throw noSuchHolder({ type: 'group', name });
    return `<Group>${groupXml(group)}</Group>${list('Users', users.map(userXml))}`;
  },

  async ListGroups(call) {
    const prefix = pathPrefix(call);
    await allow(call, `arn:aws:iam::${call.accountId}:group/`);
    const groups = await call.api.identities.listGroups(call.accountId);
    return list('Groups', groups.filter((g) => g.path.startsWith(prefix)).map(groupXml));
  },

  async DeleteGroup(call) {
    const name = groupName(call);
    await allowOnExistingHolder(call, { type: 'group', name });
    // DeleteConflict from the store while the group has members or policies.
    if (!(await call.api.identities.deleteGroup(call.accountId, name))) throw noSuchHolder({ type: 'group', name });
    changed(call);
    return '';
  },

  async AddUserToGroup(call) {
    const { group, user } = await membership(call);
    await call.api.identities.addUserToGroup(call.accountId, group, user);
    changed(call);
    return '';
  },

  async RemoveUserFromGroup(call) {
    const { group, user } = await membership(call);
    if (!(await call.api.identities.removeUserFromGroup(call.accountId, group, user))) {
      throw noSuchEntity(`The user with name ${user} is not a member of the group with name ${group}.`);
    }
    changed(call);
    return '';
  },

  async ListGroupsForUser(call) {
    const name = required(call, 'UserName', NAME, 64);
    await allowOnExistingHolder(call, { type: 'user', name });
    const groups = await call.api.identities.listGroupsForUser(call.accountId, name);
    return list('Groups', groups.map(groupXml));
  },
};
