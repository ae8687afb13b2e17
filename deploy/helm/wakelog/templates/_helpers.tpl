{{/* The name of every object: the release's, with the chart's name unless it already has it. */}}
{{- define "wakelog.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wakelog.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "wakelog.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wakelog.secretName" -}}
{{- .Values.existingSecret | default (include "wakelog.fullname" .) -}}
{{- end -}}

{{/* The database URL without its password (libpq reads PGPASSWORD from the Secret). */}}
{{- define "wakelog.databaseUrl" -}}
postgresql://{{ .Values.database.user }}@{{ .Values.database.host }}:{{ .Values.database.port }}/{{ .Values.database.name }}
{{- end -}}

{{/* The environment of the server and of the init Job: settings, then the Secret. */}}
{{- define "wakelog.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "wakelog.fullname" . }}
  - secretRef:
      name: {{ include "wakelog.secretName" . }}
{{- end -}}
