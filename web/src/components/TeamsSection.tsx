import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { me, members, removeMember, setMember, usage } from "../api/endpoints";
import { ROLES, type Role } from "../api/types";
import { errorMessage } from "../i18n/errors";
import { useApi } from "../lib/useApi";
import { QuotaText } from "./StorageSection";

/** The signed-in user's entities and roles; an entity's admins manage its members here and see
 * what it stores against its quota. */
export function TeamsSection() {
  const { t } = useTranslation();
  const { data, error, reload } = useApi(me());
  const stored = useApi(usage()).data?.entities ?? []; // the entities you administer
  const byEntity = new Map(stored.map((q) => [q.name, q]));
  const [managing, setManaging] = useState<string | null>(null);
  const memberships = data?.memberships ?? [];
  return (
    <>
      <h2>{t("teams.title")}</h2>
      <p className="hint">{t("teams.help")}</p>
      {error && <p role="alert" className="error">{t("app.error", { message: errorMessage(error) })}</p>}
      {data && memberships.length === 0 && <p>{t("teams.none")}</p>}
      {memberships.length > 0 && (
        <table className="grid-table" data-testid="teams">
          <thead>
            <tr>
              <th scope="col">{t("teams.entity")}</th>
              <th scope="col">{t("teams.role")}</th>
              <th scope="col">{t("storage.files")}</th>
              <th scope="col"><span className="sr-only">{t("teams.manage")}</span></th>
            </tr>
          </thead>
          <tbody>
            {memberships.map((m) => (
              <tr key={m.entity}>
                <td>{m.entity}</td>
                <td>{t(`teams.roles.${m.role}`)}</td>
                <td>{byEntity.has(m.entity) && <QuotaText used={byEntity.get(m.entity)!.bytes} limit={byEntity.get(m.entity)!.max_bytes} />}</td>
                <td>
                  {(m.role === "admin" || data?.is_admin) && (
                    <button
                      type="button"
                      aria-pressed={managing === m.entity}
                      aria-label={`${t("teams.manage")} ${m.entity}`}
                      onClick={() => setManaging(managing === m.entity ? null : m.entity)}
                    >
                      {t("teams.manage")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {managing && <MembersEditor key={managing} entity={managing} onChanged={reload} />}
    </>
  );
}

function RoleSelect({ value, label, onChange }: { value: Role; label: string; onChange: (role: Role) => void }) {
  const { t } = useTranslation();
  return (
    <select value={value} aria-label={label} onChange={(e) => onChange(e.target.value as Role)}>
      {ROLES.map((role) => (
        <option key={role} value={role}>
          {t(`teams.roles.${role}`)}
        </option>
      ))}
    </select>
  );
}

/** Add, change and remove an entity's members; the server refuses what is not allowed and says why. */
function MembersEditor({ entity, onChanged }: { entity: string; onChanged: () => void }) {
  const { t } = useTranslation();
  const { data, error, reload } = useApi(members(entity));
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [failure, setFailure] = useState<string | null>(null);

  async function change(action: () => Promise<unknown>) {
    setFailure(null);
    try {
      await action();
    } catch (e) {
      setFailure(errorMessage(e));
    }
    reload();
    onChanged(); // your own role may have changed
  }

  function add(event: FormEvent) {
    event.preventDefault();
    const name = username.trim();
    if (!name) return;
    void change(async () => {
      await setMember(entity, name, role);
      setUsername("");
    });
  }

  function remove(name: string) {
    if (!window.confirm(t("teams.confirmRemove", { user: name, entity }))) return;
    void change(() => removeMember(entity, name));
  }

  return (
    <section aria-label={t("teams.membersOf", { entity })} data-testid="members">
      <h3>{t("teams.membersOf", { entity })}</h3>
      <form className="inline-form" onSubmit={add}>
        <label>
          {t("teams.username")}
          <input value={username} maxLength={64} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          {t("teams.role")}
          <RoleSelect value={role} label={t("teams.newRole")} onChange={setRole} />
        </label>
        <button type="submit" className="primary">
          {t("teams.add")}
        </button>
      </form>
      {(error || failure) && <p role="alert" className="error">{t("app.error", { message: failure ?? (error ? errorMessage(error) : "") })}</p>}
      {data && (
        <table className="grid-table">
          <thead>
            <tr>
              <th scope="col">{t("teams.username")}</th>
              <th scope="col">{t("teams.role")}</th>
              <th scope="col"><span className="sr-only">{t("teams.remove")}</span></th>
            </tr>
          </thead>
          <tbody>
            {data.members.map((m) => (
              <tr key={m.username}>
                <td>{m.username}</td>
                <td>
                  <RoleSelect
                    value={m.role}
                    label={t("teams.roleOf", { user: m.username })}
                    onChange={(next) => void change(() => setMember(entity, m.username, next))}
                  />
                </td>
                <td>
                  <button type="button" aria-label={`${t("teams.remove")} ${m.username}`} onClick={() => remove(m.username)}>
                    {t("teams.remove")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
