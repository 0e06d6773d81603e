{{- define "tern.fullname" -}}
{{ .Release.Name }}-tern
{{- end }}

{{- define "tern.labels" -}}
app.kubernetes.io/name: tern
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- /* The Secret's entries; the pod template carries their checksum, so a changed secret restarts the pod. */ -}}
{{- define "tern.secretData" -}}
{{- if .Values.ociRegistry.password }}
OCI_PASSWORD: {{ .Values.ociRegistry.password | quote }}
{{- end }}
{{- if .Values.edgeBundle }}
EDGE_BUNDLE: {{ .Values.edgeBundle | quote }}
{{- end }}
{{- if .Values.apiToken }}
API_TOKEN: {{ .Values.apiToken | quote }}
{{- end }}
{{- end }}
