{{/* Chart name: nameOverride (a DNS-1123 label of at most 63 characters, checked by the schema) or the chart's. */}}
{{- define "mysql.name" -}}
{{- default .Chart.Name .Values.nameOverride }}
{{- end }}

{{/*
Fully qualified name of the release's resources. It also names the StatefulSet and the headless
Service, so pods are <fullname>-N.<fullname>. Never cut: "mysql.validate" refuses a name longer
than 52 characters or not a DNS-1035 label, since a cut name could collide with another release's.
*/}}
{{- define "mysql.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart label value: name-version. */}}
{{- define "mysql.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: only name and instance, because a StatefulSet's selector can never change. */}}
{{- define "mysql.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mysql.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels of every resource. */}}
{{- define "mysql.labels" -}}
helm.sh/chart: {{ include "mysql.chart" . }}
{{ include "mysql.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "mysql.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* metadata.annotations of every resource, from commonAnnotations (renders nothing when empty). */}}
{{- define "mysql.annotations" -}}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Headless Service: stable DNS <fullname>-N.<fullname> for every pod. */}}
{{- define "mysql.headlessServiceName" -}}
{{- include "mysql.fullname" . }}
{{- end }}

{{/* Read Service: every Ready pod, primary included. */}}
{{- define "mysql.readServiceName" -}}
{{- printf "%s-read" (include "mysql.fullname" .) }}
{{- end }}

{{/* Stable DNS name of the primary (pod 0), the only host that accepts writes. */}}
{{- define "mysql.primaryHost" -}}
{{- printf "%s-0.%s" (include "mysql.fullname" .) (include "mysql.headlessServiceName" .) }}
{{- end }}

{{/* The pods' ServiceAccount: serviceAccount.name, else the fullname. */}}
{{- define "mysql.serviceAccountName" -}}
{{- default (include "mysql.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* Name of the Secret holding the passwords. */}}
{{- define "mysql.secretName" -}}
{{- default (include "mysql.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{/*
Name of the chart's own Secret beside a user's auth.existingSecret: it holds the internal-only
password (clone) when the user's Secret does not, so a Secret made for another chart works.
*/}}
{{- define "mysql.internalSecretName" -}}
{{- printf "%s-internal" (include "mysql.fullname" .) }}
{{- end }}

{{/* The Secret volume(s) of every pod that reads passwords (database pods and the test pod). */}}
{{- define "mysql.secretVolumes" -}}
- name: secrets
  secret:
    secretName: {{ include "mysql.secretName" . }}
    defaultMode: 288 # 0440: readable by the fsGroup only
{{- if .Values.auth.existingSecret }}
- name: secrets-internal
  secret:
    secretName: {{ include "mysql.internalSecretName" . }}
    defaultMode: 288
{{- end }}
{{- end }}

{{/* The image of the chosen flavor, as registry/repository:tag or @digest. */}}
{{- define "mysql.image" -}}
{{- $img := index .Values.images .Values.flavor }}
{{- $ref := $img.repository }}
{{- if $img.registry }}{{ $ref = printf "%s/%s" $img.registry $img.repository }}{{ end }}
{{- if $img.digest }}
{{- printf "%s@%s" $ref $img.digest }}
{{- else }}
{{- printf "%s:%s" $ref $img.tag }}
{{- end }}
{{- end }}

{{/* Pull policy of the chosen flavor's image. */}}
{{- define "mysql.imagePullPolicy" -}}
{{- (index .Values.images .Values.flavor).pullPolicy | default "IfNotPresent" }}
{{- end }}

{{/*
What differs between the flavors in the templates, in one place (the in-pod scripts have their
flavor.sh): the client program (the official mariadb:11 image has no "mysql" name), the
replication status statement, and whether new replicas copy their donor through the sidecar's
backup port. Use: $f := include "mysql.flavor" . | fromJson.
*/}}
{{- define "mysql.flavor" -}}
{{- $flavors := dict
  "mysql" (dict "client" "mysql" "replicaStatus" "SHOW REPLICA STATUS" "backupPort" false)
  "mariadb" (dict "client" "mariadb" "replicaStatus" "SHOW SLAVE STATUS" "backupPort" true) }}
{{- index $flavors .Values.flavor | toJson }}
{{- end }}

{{/* Client program of the flavor. */}}
{{- define "mysql.client" -}}
{{- (include "mysql.flavor" . | fromJson).client }}
{{- end }}

{{/* Environment every in-pod script reads (scripts are never templated themselves). */}}
{{- define "mysql.scriptEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: STATEFULSET_NAME
  value: {{ include "mysql.fullname" . | quote }}
- name: HEADLESS_SERVICE
  value: {{ include "mysql.headlessServiceName" . | quote }}
- name: PRIMARY_HOST
  value: {{ include "mysql.primaryHost" . | quote }}
- name: DB_PORT
  value: {{ .Values.service.port | quote }}
- name: REPLICATION_USER
  value: {{ .Values.auth.replicationUser | quote }}
- name: CLONE_USER
  value: {{ .Values.auth.cloneUser | quote }}
- name: APP_USER
  value: {{ .Values.auth.username | quote }}
- name: APP_DATABASE
  value: {{ .Values.auth.database | quote }}
{{- if .Values.auth.existingSecret }}
- name: INTERNAL_SECRETS_DIR
  value: /etc/mysql-chart/secrets-internal
{{- end }}
{{- end }}

{{/* How a pod copies a donor (prepare-data, and the sidecar's re-clone), and its access to the Kubernetes API. */}}
{{- define "mysql.cloneEnv" -}}
- name: CLONE_ATTEMPTS
  value: {{ .Values.clone.attempts | quote }}
- name: CLONE_RETRY_DELAY_SECONDS
  value: {{ .Values.clone.retryDelaySeconds | quote }}
- name: DONOR_WAIT_SECONDS
  value: {{ .Values.clone.donorWaitSeconds | quote }}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: KUBE_API_DIR
  value: /var/run/secrets/mysql-chart/kube-api
{{- end }}

{{/* Volume mounts every container shares: scripts, Secret, run dir and /tmp. */}}
{{- define "mysql.commonMounts" -}}
- name: scripts
  mountPath: /opt/mysql-chart/scripts
- name: secrets
  mountPath: /etc/mysql-chart/secrets
  readOnly: true
{{- if .Values.auth.existingSecret }}
- name: secrets-internal
  mountPath: /etc/mysql-chart/secrets-internal
  readOnly: true
{{- end }}
- name: run
  mountPath: /run/mysqld
- name: tmp
  mountPath: /tmp
{{- end }}
