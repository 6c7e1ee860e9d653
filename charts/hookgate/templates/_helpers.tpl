{{/* Chart name, cut to leave room for suffixes. */}}
{{- define "hookgate.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every object name: the release name, plus the chart name unless the release name holds it. */}}
{{- define "hookgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "hookgate.operator.fullname" -}}{{ include "hookgate.fullname" . }}-operator{{- end }}
{{- define "hookgate.ingress.fullname" -}}{{ include "hookgate.fullname" . }}-ingress{{- end }}

{{- define "hookgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "hookgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of a component: include with (dict "ctx" $ "component" "operator"). */}}
{{- define "hookgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hookgate.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "hookgate.componentLabels" -}}
{{ include "hookgate.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "hookgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The public base URL: the value, else derived from the exposure, else the in-cluster Service. */}}
{{- define "hookgate.publicBaseURL" -}}
{{- if .Values.publicBaseURL }}
{{- .Values.publicBaseURL | trimSuffix "/" }}
{{- else if .Values.expose.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" (ne .Values.expose.ingress.tlsSecretName "")) .Values.expose.ingress.host }}
{{- else if and .Values.expose.httpRoute.enabled .Values.expose.httpRoute.hostnames }}
{{- printf "https://%s" (first .Values.expose.httpRoute.hostnames) }}
{{- else }}
{{- $port := int .Values.ingress.service.port }}
{{- printf "http://%s.%s.svc%s" (include "hookgate.ingress.fullname" .) .Release.Namespace (ternary "" (printf ":%d" $port) (eq $port 80)) }}
{{- end }}
{{- end }}

{{- define "hookgate.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "hookgate.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* Env shared by both components: who and where the pod is. */}}
{{- define "hookgate.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{/* admission.runNamespaceLabels as kubectl label arguments: k1=v1 k2=v2 */}}
{{- define "hookgate.runNamespaceLabels" -}}
{{- $pairs := list }}
{{- range $k, $v := .Values.admission.runNamespaceLabels }}{{ $pairs = append $pairs (printf "%s=%s" $k $v) }}{{ end }}
{{- join " " $pairs }}
{{- end }}

{{/*
The egress rule to the API server: its ports, to networkPolicy.apiServer.cidrs when set. Both
components reach it by the address in KUBERNETES_SERVICE_HOST, so they need no DNS. Most network
plugins match the endpoint after the Service's address is translated, hence 6443 beside 443.
*/}}
{{- define "hookgate.apiServerEgress" -}}
{{- $api := .Values.networkPolicy.apiServer -}}
- ports:
    {{- range $api.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $api.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
  {{- end }}
{{- end }}
