/**
 * The report routes (docs/collaboration.md), one function each as in api/endpoints.ts. The answers'
 * shapes are ./types.ts, checked there against the generated schema (the spec's defaults filled in).
 */
import { request, seg } from "../api/client";
import type { Get } from "../api/endpoints";
import type { Bundle, Report, ReportDiff, ReportListItem, ReportSpec, Revision } from "./types";

export interface ReportRef {
  entity: string;
  project: string;
  id: string;
}

const base = (r: ReportRef) => `/reports/${seg(r.entity)}/${seg(r.project)}/${seg(r.id)}`;
const post = <T>(path: string, body?: unknown) => request<T>(path, { method: "POST", body: body ?? {} });

export const reportList = (entity: string, project: string): Get<ReportListItem[]> => ({ path: `/projects/${seg(entity)}/${seg(project)}/reports` });
export const createReport = (entity: string, project: string, body: { title: string; description?: string; spec?: ReportSpec }) =>
  post<Report>(`/projects/${seg(entity)}/${seg(project)}/reports`, body);
export const reportGet = (r: ReportRef, version?: number): Get<Report> => ({ path: base(r), query: version ? { version } : undefined });
export const saveReport = (r: ReportRef, body: { title: string; description: string; spec: ReportSpec; base_version: number }) =>
  request<Report>(base(r), { method: "PUT", body });
export const publishReport = (r: ReportRef, publish: boolean) => post<Report>(`${base(r)}/${publish ? "publish" : "unpublish"}`);
export const reportHistory = (r: ReportRef): Get<Revision[]> => ({ path: `${base(r)}/history` });
export const reportDiff = (r: ReportRef, from: number, to: number): Get<ReportDiff> => ({ path: `${base(r)}/diff`, query: { from, to } });
export const revertReport = (r: ReportRef, version: number) => post<Report>(`${base(r)}/revert`, { version });
export const duplicateReport = (r: ReportRef, title?: string) => post<Report>(`${base(r)}/duplicate`, title ? { title } : {});
export const pinReport = (r: ReportRef, pin: boolean) => post<Report>(`${base(r)}/${pin ? "pin" : "unpin"}`);
export const deleteReport = (r: ReportRef) => request<undefined>(base(r), { method: "DELETE" });
export const shareReport = (r: ReportRef) => post<{ token: string; url: string }>(`${base(r)}/share`);
export const unshareReport = (r: ReportRef) => request<undefined>(`${base(r)}/share`, { method: "DELETE" });
export const reportBundle = (r: ReportRef, version?: number): Get<Bundle> => ({ path: `${base(r)}/bundle`, query: version ? { version } : undefined });
export const sharedBundle = (token: string): Get<Bundle> => ({ path: `/shared/${seg(token)}` });
export const dashboard = (entity: string, project: string): Get<Report> => ({ path: `/projects/${seg(entity)}/${seg(project)}/dashboard` });
export const exportUrl = (r: ReportRef) => `/api/v1${base(r)}/export.html`;
