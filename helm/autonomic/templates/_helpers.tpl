{{- define "autonomic.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "autonomic.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "autonomic.labels" -}}
app.kubernetes.io/name: {{ include "autonomic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "autonomic.selector" -}}
app.kubernetes.io/name: {{ include "autonomic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "autonomic.secretName" -}}{{ .Values.auth.existingSecret | default (include "autonomic.fullname" .) }}{{- end -}}
