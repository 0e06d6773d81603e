{{- define "tern.fullname" -}}
{{ .Release.Name }}-tern
{{- end }}

{{- define "tern.labels" -}}
app.kubernetes.io/name: tern
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
