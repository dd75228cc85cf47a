{{/*
The chart's name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "ml-services.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's base name for every object. A release whose name already holds the
chart name is not repeated ("ml-services" rather than "ml-services-ml-services").
Truncated to 52 characters so that "-<component>" still fits into 63.
*/}}
{{- define "ml-services.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Name of one component's objects: "<fullname>-<component>".
Call with (dict "root" $ "component" "face").
*/}}
{{- define "ml-services.componentName" -}}
{{- printf "%s-%s" (include "ml-services.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Chart label value: name and version.
*/}}
{{- define "ml-services.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels of one component: name, instance and component only, so that
selectors never change across upgrades. Call with (dict "root" $ "component" "face").
*/}}
{{- define "ml-services.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ml-services.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Every label of one component's objects: the selector labels plus part-of, version,
manager and chart. Call with (dict "root" $ "component" "face").
*/}}
{{- define "ml-services.labels" -}}
{{ include "ml-services.selectorLabels" . }}
app.kubernetes.io/part-of: attendance-ml
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "ml-services.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The model-serving components and the gateway: values key -> component name, port and
environment prefix. The operator is templated on its own (templates/operator/).
*/}}
{{- define "ml-services.serviceComponents" -}}
face:
  component: face
  port: 5001
  envPrefix: FACE
objectDetection:
  component: detection
  port: 5002
  envPrefix: DETECTION
sentiment:
  component: sentiment
  port: 5003
  envPrefix: SENTIMENT
gateway:
  component: gateway
  port: 8080
  envPrefix: GATEWAY
{{- end -}}

{{/*
Image reference of one component: registry/repository:tag, or @digest when set. A
component on GPU gets the tag with gpu.tagSuffix (the GPU variant of its image).
Call with (dict "root" $ "values" .Values.face).
*/}}
{{- define "ml-services.image" -}}
{{- $image := .values.image -}}
{{- $registry := default .root.Values.image.registry .root.Values.global.imageRegistry -}}
{{- $registry = default $registry $image.registry -}}
{{- $tag := default .root.Chart.AppVersion (default .root.Values.image.tag $image.tag) | toString -}}
{{- $gpu := .values.gpu | default dict -}}
{{- if $gpu.enabled -}}
{{- $tag = printf "%s%s" $tag .root.Values.gpuScheduling.imageTagSuffix -}}
{{- end -}}
{{- $name := $image.repository -}}
{{- if $registry -}}
{{- $name = printf "%s/%s" $registry $image.repository -}}
{{- end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $name $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $name $tag -}}
{{- end -}}
{{- end -}}

{{/*
Service account name of one component: the given name, or the component's object
name when the chart creates it, or "default".
Call with (dict "root" $ "component" "face" "values" .Values.face).
*/}}
{{- define "ml-services.serviceAccountName" -}}
{{- $account := .values.serviceAccount -}}
{{- if $account.create -}}
{{- default (include "ml-services.componentName" .) $account.name -}}
{{- else -}}
{{- default "default" $account.name -}}
{{- end -}}
{{- end -}}

{{/*
Image pull secrets shared by every pod.
*/}}
{{- define "ml-services.imagePullSecrets" -}}
{{- $secrets := concat (.Values.global.imagePullSecrets | default list) (.Values.image.pullSecrets | default list) -}}
{{- if $secrets -}}
imagePullSecrets:
{{- range $secrets }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
In-cluster URL of one model service, used by the gateway. The short name resolves in
the gateway's own namespace, so a kustomize overlay may move the release elsewhere.
Call with (dict "root" $ "component" "face" "port" 5001).
*/}}
{{- define "ml-services.serviceUrl" -}}
{{- printf "http://%s:%v" (include "ml-services.componentName" .) .port -}}
{{- end -}}

{{/*
The ingress body-size limit: the services accept up to five images of
config.maxImageBytes each as base64 (4/3 larger) plus 64 KiB of JSON (see
attendance_ml.core.app_base), rounded up to whole MiB. ingress.maxBodySize overrides.
*/}}
{{- define "ml-services.ingressBodySize" -}}
{{- if .Values.ingress.maxBodySize -}}
{{- .Values.ingress.maxBodySize -}}
{{- else -}}
{{- $bytes := add (div (mul (int64 .Values.config.maxImageBytes) 20) 3) 65536 -}}
{{- printf "%dm" (add (div $bytes 1048576) 1) -}}
{{- end -}}
{{- end -}}

{{/*
Environment of the gateway: where the services are, authentication from an existing
secret (each key optional, so JWT, API keys or both), rate-limit storage, CORS.
*/}}
{{- define "ml-services.gatewayEnv" -}}
{{- $components := include "ml-services.serviceComponents" . | fromYaml -}}
{{- range $key := list "face" "objectDetection" "sentiment" }}
{{- $meta := index $components $key }}
- name: ATTENDANCE_GATEWAY_{{ $meta.envPrefix }}_URL
  value: {{ include "ml-services.serviceUrl" (dict "root" $ "component" $meta.component "port" $meta.port) | quote }}
{{- end }}
- name: ATTENDANCE_GATEWAY_TIMEOUT_SECONDS
  value: {{ .Values.gateway.timeoutSeconds | quote }}
- name: ATTENDANCE_GATEWAY_AUTH_ENABLED
  value: {{ .Values.gateway.auth.enabled | quote }}
{{- if .Values.gateway.auth.enabled }}
{{- $secret := .Values.gateway.auth.existingSecret }}
{{- range $name, $key := dict "JWT_SECRET" .Values.gateway.auth.jwtSecretKey "JWT_PUBLIC_KEY" .Values.gateway.auth.jwtPublicKeyKey "API_KEYS" .Values.gateway.auth.apiKeysKey }}
- name: ATTENDANCE_GATEWAY_{{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
      optional: true
{{- end }}
{{- end }}
- name: ATTENDANCE_GATEWAY_RATE_LIMIT_ENABLED
  value: {{ .Values.gateway.rateLimit.enabled | quote }}
{{- with .Values.gateway.rateLimit.storageUriSecret.existingSecret }}
- name: ATTENDANCE_GATEWAY_RATE_LIMIT_STORAGE_URI
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.gateway.rateLimit.storageUriSecret.key }}
{{- end }}
{{- with .Values.gateway.corsOrigins }}
- name: ATTENDANCE_GATEWAY_CORS_ORIGINS
  value: {{ . | quote }}
{{- end }}
{{- end -}}
