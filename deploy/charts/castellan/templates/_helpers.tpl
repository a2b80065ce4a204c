{{/*
Names are fixed (castellan-gateway, castellan-nats…), not prefixed with the release name: the
services find each other by them (CASTELLAN_GATEWAY_SERVICE, tls://castellan-nats:4222) and
`castellan bus-secrets` names its Secrets and certificates after them. One release per namespace.
*/}}

{{/* The labels of a component's objects and pods: castellan.labels "gateway". */}}
{{- define "castellan.labels" -}}
app.kubernetes.io/name: castellan-{{ . }}
app.kubernetes.io/component: {{ . }}
app.kubernetes.io/part-of: castellan
{{- end }}

{{/* What a component's selectors match. Selectors are immutable: never add to them. */}}
{{- define "castellan.selectorLabels" -}}
app.kubernetes.io/name: castellan-{{ . }}
app.kubernetes.io/part-of: castellan
{{- end }}

{{/* The Castellan image, one for every service and the default pool's evaluators. */}}
{{- define "castellan.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "castellan.policyServerImage" -}}
{{- $pool := .Values.policyServer.default.image -}}
{{ $pool.repository | default .Values.image.repository }}:{{ $pool.tag | default .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The restricted Pod Security Standard, for every pod: UID/GID 1000 is the image's user (Containerfile).
*/}}
{{- define "castellan.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "castellan.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Scheduling of a component from its values (nodeSelector, tolerations, affinity,
topologySpreadConstraints) and the pull secrets: castellan.scheduling (list $ .Values.gateway).
*/}}
{{- define "castellan.scheduling" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
A hash of castellan-common in the pod template: a change of the shared settings rolls the pods that
read them with envFrom (which Kubernetes reads only when a container starts).
*/}}
{{- define "castellan.commonChecksum" -}}
checksum/castellan-common: {{ include (print .Template.BasePath "/common-config.yaml") . | sha256sum }}
{{- end }}

{{/* The `castellan bus-secrets` command line for this release (its defaults: castellan, 3 servers). */}}
{{- define "castellan.busSecretsCommand" -}}
castellan bus-secrets
{{- if ne .Release.Namespace "castellan" }} --namespace {{ .Release.Namespace }}{{ end }}
{{- if gt (int .Values.nats.replicas) 3 }} --nats-replicas {{ .Values.nats.replicas }}{{ end }}
{{- end }}
