{{- define "autonomic.name" -}}{{ .Chart.Name }}{{- end -}}
{{- /* `helm install autonomic` names everything `autonomic` (the README's Alertmanager URL);
       another release name gets the chart name appended, as `helm create` charts do. */}}
{{- define "autonomic.fullname" -}}{{ if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{ end }}{{- end -}}
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
{{- /* Optional Secret keys: the environment variable each one feeds, and the value that puts
       it in the chart's own Secret. An existingSecret may hold any of them. */}}
{{- define "autonomic.optionalSecretEnv" -}}
AUTONOMIC_VIEWER_TOKEN: viewer-token
AUTONOMIC_OPERATOR_TOKENS: operator-tokens
AUTONOMIC_VIEWER_TOKENS: viewer-tokens
AUTONOMIC_FLAGS_TOKEN: flags-token
AUTONOMIC_METRICS_TOKEN: metrics-token
AUTONOMIC_SESSION_SECRET: session-secret
AUTONOMIC_SLACK_TOKEN: slack-token
AUTONOMIC_PAGERDUTY_ROUTING_KEY: pagerduty-routing-key
AUTONOMIC_NOTIFY_TOKEN: notify-token
AUTONOMIC_ALERTMANAGER_TOKEN: alertmanager-token
{{- end -}}
{{- define "autonomic.optionalSecretValues" -}}
viewer-token: {{ .Values.auth.viewerToken | quote }}
operator-tokens: {{ .Values.auth.operatorTokens | quote }}
viewer-tokens: {{ .Values.auth.viewerTokens | quote }}
flags-token: {{ .Values.auth.flagsToken | quote }}
metrics-token: {{ .Values.auth.metricsToken | quote }}
session-secret: {{ .Values.auth.sessionSecret | quote }}
slack-token: {{ .Values.slack.token | quote }}
pagerduty-routing-key: {{ .Values.pagerduty.routingKey | quote }}
notify-token: {{ .Values.notify.token | quote }}
alertmanager-token: {{ .Values.alertmanager.token | quote }}
{{- end -}}
