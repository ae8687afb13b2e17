/**
 * What the signed-in person may do under an entity, as far as the app needs to know it to offer a
 * control (the server decides; see server/permissions.py): writing needs the member role, a
 * server admin may do everything, and a user's own entity is theirs.
 */
import { ROLES, type Me } from "../api/types";

export function canWrite(me: Me, entity: string): boolean {
  if (me.is_admin || entity === me.username) return true;
  const role = me.memberships?.find((m) => m.entity === entity)?.role;
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf("member");
}

/** Whether the person manages the entity (its members, a project's team channels): its admin role,
 * or a server admin. */
export function canAdmin(me: Me, entity: string): boolean {
  if (me.is_admin) return true;
  return me.memberships?.find((m) => m.entity === entity)?.role === "admin";
}
