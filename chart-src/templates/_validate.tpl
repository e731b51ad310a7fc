{{/*
Rules that values.schema.json cannot express: across several values, on the release name, or
on the lines of the free-form my.cnf values. All broken rules are reported together in one
failure, each naming the values field.
*/}}
{{- define "mysql.validate" -}}
{{- $errors := list }}
{{- $v := .Values }}
{{- $a := .Values.auth }}

{{- /* Names. The full name names the StatefulSet, whose pods carry the label
controller-revision-hash=<name>-<hash of up to 10 characters>: a label value is at most 63
characters, so the name is at most 52. That is the chart's longest suffix: the others are
<name>-read and <name>-primary (Services, 63), <name>-client (a label key, 63), <name>-N (pod names, 63). */}}
{{- $maxName := 52 }}
{{- $fullname := include "mysql.fullname" . }}
{{- $from := "" }}
{{- if $v.fullnameOverride }}
{{- $from = printf "fullnameOverride %q" $v.fullnameOverride }}
{{- else if contains (default .Chart.Name $v.nameOverride) .Release.Name }}
{{- $from = printf "the release name %q" .Release.Name }}
{{- else if $v.nameOverride }}
{{- $from = printf "the release name %q + nameOverride %q" .Release.Name $v.nameOverride }}
{{- else }}
{{- $from = printf "the release name %q + the chart name %q" .Release.Name .Chart.Name }}
{{- end }}
{{- if gt (len $fullname) $maxName }}
{{- $errors = append $errors (printf "the resource name %q (from %s) is %d characters, more than %d: the StatefulSet's pods carry the label controller-revision-hash=<name>-<10-character hash>, which Kubernetes limits to 63; use a shorter release name or nameOverride, or set fullnameOverride" $fullname $from (len $fullname) $maxName) }}
{{- end }}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $fullname) }}
{{- $errors = append $errors (printf "the resource name %q (from %s) is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter), which Service names must be; use another release name or set fullnameOverride" $fullname $from) }}
{{- end }}

{{- /* Images: a registry host written into the repository as well as into registry. */}}
{{- range $flavor := list "mysql" "mariadb" "exporter" "rclone" }}
{{- $img := index $v.images $flavor | default dict }}
{{- $registry := $img.registry | default "" | toString }}
{{- $parts := splitList "/" ($img.repository | default "" | toString) }}
{{- if and $registry (gt (len $parts) 1) }}
{{- $first := first $parts }}
{{- $host := first (splitList "/" $registry) }}
{{- $dockerHub := has (lower $host) (list "docker.io" "index.docker.io" "registry-1.docker.io") }}
{{- if or (contains ":" $first) (eq $first "localhost") (eq (lower $first) (lower $host)) (and $dockerHub (contains "." $first)) }}
{{- $errors = append $errors (printf "images.%s.repository %q starts with a registry host while images.%s.registry is %q (the image would be %s/%s): put the host in images.%s.registry only" $flavor $img.repository $flavor $registry $registry $img.repository $flavor) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Accounts. */}}
{{- $reserved := list "root" "mysql" "mysql.sys" "mysql.session" "mysql.infoschema" "mariadb.sys" "public" "mysql_chart_test" }}
{{- range $k := list "replicationUser" "cloneUser" "username" }}
{{- $user := index $a $k | default "" | toString }}
{{- if has (lower $user) $reserved }}
{{- $errors = append $errors (printf "auth.%s %q is a reserved account (the server's root, mysql, mysql.sys, mysql.session, mysql.infoschema, mariadb.sys, PUBLIC, or the chart's helm test account mysql_chart_test, in any letter case); choose another name" $k $user) }}
{{- end }}
{{- end }}
{{- if eq $a.replicationUser $a.cloneUser }}
{{- $errors = append $errors "auth.cloneUser must differ from auth.replicationUser (they hold different privileges)" }}
{{- end }}
{{- if and $a.username (has $a.username (list $a.replicationUser $a.cloneUser)) }}
{{- $errors = append $errors (printf "auth.username %q clashes with an account the chart manages (auth.replicationUser, auth.cloneUser)" $a.username) }}
{{- end }}
{{- if has (lower ($a.database | default "" | toString)) (list "mysql" "sys" "information_schema" "performance_schema") }}
{{- $errors = append $errors (printf "auth.database %q is a system schema of the server; choose another name" $a.database) }}
{{- end }}
{{- range $k := list "rootPassword" "replicationPassword" "clonePassword" "password" }}
{{- if regexMatch "[\r\n]" (index $a $k | default "" | toString) }}
{{- $errors = append $errors (printf "auth.%s contains a line break (a file given with --set-file ends with one?); remove it" $k) }}
{{- end }}
{{- end }}
{{- if and $a.password (not $a.username) }}
{{- $errors = append $errors "auth.password is set but auth.username is empty" }}
{{- end }}
{{- if and $a.existingSecret (or $a.rootPassword $a.replicationPassword $a.clonePassword $a.password) }}
{{- $errors = append $errors "auth.existingSecret is set: leave auth.rootPassword, auth.replicationPassword, auth.clonePassword and auth.password empty (the Secret holds them)" }}
{{- end }}

{{- /* Numbers across fields. */}}
{{- $replicas := int64 $v.replicas }}
{{- if gt (add (int64 $v.serverIdOffset) $replicas) 4294967295 }}
{{- $errors = append $errors (printf "serverIdOffset (%d) + replicas (%d) exceeds 4294967295, the largest server_id" (int64 $v.serverIdOffset) $replicas) }}
{{- end }}
{{- if and (eq $v.flavor "mariadb") (gt (int64 $v.config.binlogExpireSeconds) 8553600) }}
{{- $errors = append $errors (printf "config.binlogExpireSeconds (%d) exceeds MariaDB's maximum binlog_expire_logs_seconds, 8553600 (99 days)" (int64 $v.config.binlogExpireSeconds)) }}
{{- end }}
{{- if and (include "mysql.flavor" . | fromJson).backupPort (eq (int $v.clone.backupPort) (int $v.service.port)) }}
{{- $errors = append $errors "clone.backupPort must differ from service.port" }}
{{- end }}
{{- range $p := list "startup" "liveness" }}
{{- $probe := index $v.probes $p | default dict }}
{{- if and (hasKey $probe "successThreshold") (ne (int64 (index $probe "successThreshold")) 1) }}
{{- $errors = append $errors (printf "probes.%s.successThreshold must be 1: Kubernetes refuses any other value for %s probes" $p $p) }}
{{- end }}
{{- end }}
{{- if and $v.podDisruptionBudget.enabled (gt $replicas 1) (ge (int64 $v.podDisruptionBudget.maxUnavailable) $replicas) }}
{{- $errors = append $errors (printf "podDisruptionBudget.maxUnavailable (%d) must be below replicas (%d): a node drain could evict every pod at once" (int64 $v.podDisruptionBudget.maxUnavailable) $replicas) }}
{{- end }}
{{- if and $v.persistence.existingClaim (ne (int $v.replicas) 1) }}
{{- $errors = append $errors (printf "persistence.existingClaim (%s) is pod 0's volume, which every pod of the StatefulSet would mount: it takes replicas: 1 (replicas is %d); to replicate, install a new release from this one with bootstrap.cloneFrom" $v.persistence.existingClaim (int $v.replicas)) }}
{{- end }}
{{- with $v.bootstrap.cloneFrom }}
{{- if .host }}
{{- if ne $v.flavor "mysql" }}
{{- $errors = append $errors (printf "bootstrap.cloneFrom is for flavor mysql (the clone plugin); flavor is %s" $v.flavor) }}
{{- end }}
{{- if not .user }}
{{- $errors = append $errors "bootstrap.cloneFrom.user is empty: name the account pod 0 clones and replicates with on bootstrap.cloneFrom.host" }}
{{- end }}
{{- if not .passwordSecret.name }}
{{- $errors = append $errors "bootstrap.cloneFrom.passwordSecret.name is empty: name the Secret holding the password of bootstrap.cloneFrom.user" }}
{{- end }}
{{- if and .tls.caSecret (not .tls.enabled) }}
{{- $errors = append $errors "bootstrap.cloneFrom.tls.caSecret is set but bootstrap.cloneFrom.tls.enabled is false: a CA verifies only an encrypted connection" }}
{{- end }}
{{- if or $v.initSql $v.initSqlSecret.name }}
{{- $errors = append $errors "initSql/initSqlSecret are set with bootstrap.cloneFrom.host: the data comes from that server, so no init SQL runs; run it there, or after the cut-over" }}
{{- end }}
{{- else if or .user .passwordSecret.name .tls.caSecret .cutOver }}
{{- $errors = append $errors "bootstrap.cloneFrom.host is empty while other bootstrap.cloneFrom fields are set: name the server to copy, or remove them" }}
{{- end }}
{{- end }}
{{- /* Backup destinations: one each, and S3 credentials from a Secret. */}}
{{- if $v.backup.enabled }}
{{- if and $v.backup.persistentVolumeClaim.claimName $v.backup.s3.bucket }}
{{- $errors = append $errors "backup.persistentVolumeClaim.claimName and backup.s3.bucket are both set: backups go to one destination; keep one" }}
{{- else if not (or $v.backup.persistentVolumeClaim.claimName $v.backup.s3.bucket) }}
{{- $errors = append $errors "backup.enabled is true but no destination is set: name the existing claim (backup.persistentVolumeClaim.claimName) or bucket (backup.s3.bucket) the backups are written to" }}
{{- end }}
{{- end }}
{{- if and $v.backup.enabled $v.backup.binlogs.enabled (not $v.backup.s3.bucket) }}
{{- $errors = append $errors "backup.binlogs.enabled is true but backup.s3.bucket is empty: the binary logs are archived into the backups' S3 bucket only (a claim would have to be mounted by every pod)" }}
{{- end }}
{{- range $field, $s3 := dict "backup.s3" $v.backup.s3 "restore.from.s3" $v.restore.from.s3 }}
{{- if and $s3.bucket (not $s3.existingSecret) }}
{{- $errors = append $errors (printf "%s.bucket is set but %s.existingSecret is empty: name the Secret holding the access key (%s.accessKeyIdKey) and secret key (%s.secretAccessKeyKey)" $field $field $field $field) }}
{{- end }}
{{- end }}
{{- $restoring := or $v.restore.from.persistentVolumeClaim.claimName $v.restore.from.s3.bucket }}
{{- if $v.restore.pointInTime }}
{{- if not $v.restore.from.s3.bucket }}
{{- $errors = append $errors "restore.pointInTime is set without restore.from.s3.bucket: the binary logs it replays are archived to S3 (backup.binlogs)" }}
{{- end }}
{{- end }}
{{- if and $v.restore.from.persistentVolumeClaim.claimName $v.restore.from.s3.bucket }}
{{- $errors = append $errors "restore.from.persistentVolumeClaim.claimName and restore.from.s3.bucket are both set: a release restores one backup; keep one" }}
{{- end }}
{{- if $restoring }}
{{- if $v.bootstrap.cloneFrom.host }}
{{- $errors = append $errors "restore.from and bootstrap.cloneFrom.host are both set: a new installation starts from one of them" }}
{{- end }}
{{- if or $v.initSql $v.initSqlSecret.name }}
{{- $errors = append $errors "initSql/initSqlSecret are set with restore.from: the data comes from the backup, so no init SQL runs; run it once the release is up" }}
{{- end }}
{{- end }}
{{- if and $v.initSql $v.initSqlSecret.name }}
{{- $errors = append $errors "initSql and initSqlSecret.name are both set: put all of the init SQL in one of them (initSqlSecret when it holds passwords)" }}
{{- end }}
{{- $certs := $v.tls.certificates }}
{{- if and (eq $certs.source "existingSecret") (not $certs.existingSecret) }}
{{- $errors = append $errors "tls.certificates.source is existingSecret but tls.certificates.existingSecret is empty: name the Secret holding ca.crt, tls.crt and tls.key" }}
{{- end }}
{{- if and $certs.existingSecret (ne $certs.source "existingSecret") }}
{{- $errors = append $errors (printf "tls.certificates.existingSecret is set but tls.certificates.source is %s: set source=existingSecret to use that Secret, or empty existingSecret" $certs.source) }}
{{- end }}
{{- if and (eq $certs.source "certManager") (not $certs.certManager.issuerRef.name) }}
{{- $errors = append $errors "tls.certificates.source is certManager but tls.certificates.certManager.issuerRef.name is empty: name the Issuer or ClusterIssuer that signs the certificate" }}
{{- end }}
{{- if and (eq $certs.source "existingSecret") $certs.extraDnsNames }}
{{- $errors = append $errors "tls.certificates.extraDnsNames has no effect with source=existingSecret (your Secret's certificate carries its own names): put the names in that certificate and empty extraDnsNames" }}
{{- end }}
{{- if and $v.networkPolicy.allowExternal $v.networkPolicy.clients }}
{{- $errors = append $errors "networkPolicy.clients has no effect while networkPolicy.allowExternal is true (every pod already reaches the database port): set networkPolicy.allowExternal=false to admit only those clients" }}
{{- end }}
{{- range $c := list "server" "sidecar" "init" }}
{{- $r := index $v.resources $c | default dict }}
{{- range $q := list "cpu" "memory" "ephemeral-storage" }}
{{- $req := dig "requests" $q "" $r }}
{{- $lim := dig "limits" $q "" $r }}
{{- if and (ne (toString $req) "") (ne (toString $lim) "") }}
{{- if gt (float64 (include "mysql.quantityValue" $req)) (mulf (float64 (include "mysql.quantityValue" $lim)) 1.000000001) }}
{{- $errors = append $errors (printf "resources.%s.requests.%s (%v) exceeds resources.%s.limits.%s (%v): Kubernetes refuses a request above its limit" $c $q $req $c $q $lim) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Label and annotation keys: [DNS subdomain prefix (<= 253) + "/"] name (<= 63). Checked
here rather than with the schema's propertyNames, whose Helm messages name the wrong field. */}}
{{- $keyMaps := dict "commonLabels" $v.commonLabels "podLabels" $v.podLabels "nodeSelector" $v.nodeSelector "commonAnnotations" $v.commonAnnotations "podAnnotations" $v.podAnnotations "readService.annotations" $v.readService.annotations "primaryService.annotations" $v.primaryService.annotations "metrics.service.annotations" $v.metrics.service.annotations "metrics.serviceMonitor.labels" $v.metrics.serviceMonitor.labels "metrics.serviceMonitor.annotations" $v.metrics.serviceMonitor.annotations "metrics.prometheusRule.labels" $v.metrics.prometheusRule.labels "metrics.prometheusRule.annotations" $v.metrics.prometheusRule.annotations "persistence.annotations" $v.persistence.annotations }}
{{- range $field := keys $keyMaps | sortAlpha }}
{{- range $key := keys (index $keyMaps $field | default dict) | sortAlpha }}
{{- $prefix := ternary (regexReplaceAll "/[^/]*$" $key "") "" (contains "/" $key) }}
{{- if or (not (regexMatch "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$" $key)) (gt (len $prefix) 253) }}
{{- $errors = append $errors (printf "%s key %q is not a valid Kubernetes key: an optional DNS prefix (lowercase, at most 253 characters) and '/', then a name of at most 63 characters of A-Z a-z 0-9 - _ . starting and ending with a letter or digit" $field $key) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* commonLabels values are templates: check what they render to. */}}
{{- range $key, $value := $v.commonLabels | default dict }}
{{- $rendered := tpl (toString $value) $ }}
{{- if not (regexMatch "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$" $rendered) }}
{{- $errors = append $errors (printf "commonLabels.%s renders to %q, not a valid label value (at most 63 characters of A-Z a-z 0-9 - _ . starting and ending with a letter or digit)" $key $rendered) }}
{{- end }}
{{- end }}

{{- /* Labels and annotations the chart sets itself. */}}
{{- $selectorLabels := list "app.kubernetes.io/name" "app.kubernetes.io/instance" }}
{{- $chartLabels := list "app.kubernetes.io/version" "app.kubernetes.io/managed-by" "app.kubernetes.io/part-of" "helm.sh/chart" }}
{{- range $field := list "commonLabels" "podLabels" }}
{{- range $key := keys (index $v $field | default dict) | sortAlpha }}
{{- if has $key $selectorLabels }}
{{- $errors = append $errors (printf "%s sets %s, a selector label of the chart: the StatefulSet's selector would no longer match its pods; remove it" $field $key) }}
{{- else if has $key $chartLabels }}
{{- $errors = append $errors (printf "%s sets %s, a label the chart sets itself (it would appear twice); remove it" $field $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key := keys ($v.podLabels | default dict) | sortAlpha }}
{{- if hasKey ($v.commonLabels | default dict) $key }}
{{- $errors = append $errors (printf "podLabels and commonLabels both set %s (it would appear twice on the pods); set it in one of them" $key) }}
{{- end }}
{{- end }}
{{- range $field := list "commonAnnotations" "podAnnotations" }}
{{- range $key := keys (index $v $field | default dict) | sortAlpha }}
{{- if has $key (list "checksum/config" "checksum/scripts") }}
{{- $errors = append $errors (printf "%s sets %s, a pod annotation the chart sets itself (it rolls the pods when the configuration changes); remove it" $field $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key := keys ($v.podAnnotations | default dict) | sortAlpha }}
{{- if hasKey ($v.commonAnnotations | default dict) $key }}
{{- $errors = append $errors (printf "podAnnotations and commonAnnotations both set %s (it would appear twice on the pods); set it in one of them" $key) }}
{{- end }}
{{- end }}
{{- $hookMaps := dict "commonAnnotations" $v.commonAnnotations "readService.annotations" $v.readService.annotations "primaryService.annotations" $v.primaryService.annotations "metrics.service.annotations" $v.metrics.service.annotations "metrics.serviceMonitor.annotations" $v.metrics.serviceMonitor.annotations "metrics.prometheusRule.annotations" $v.metrics.prometheusRule.annotations }}
{{- range $field := keys $hookMaps | sortAlpha }}
{{- $map := index $hookMaps $field | default dict }}
{{- range $key := keys $map | sortAlpha }}
{{- if hasPrefix "helm.sh/hook" $key }}
{{- $errors = append $errors (printf "%s sets %s, which would turn the chart's resources into Helm hooks; remove it" $field $key) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Client Services: fields Kubernetes accepts only with some Service types. */}}
{{- range $svc := list "primaryService" "readService" }}
{{- $s := index $v $svc }}
{{- if and (eq $s.type "ClusterIP") (gt (int $s.nodePort) 0) }}
{{- $errors = append $errors (printf "%s.nodePort is set but %s.type is ClusterIP: a node port needs type NodePort or LoadBalancer" $svc $svc) }}
{{- end }}
{{- if and (eq $s.type "ClusterIP") $s.externalTrafficPolicy }}
{{- $errors = append $errors (printf "%s.externalTrafficPolicy is set but %s.type is ClusterIP: Kubernetes accepts it only with type NodePort or LoadBalancer" $svc $svc) }}
{{- end }}
{{- if and (ne $s.type "LoadBalancer") $s.loadBalancerSourceRanges }}
{{- $errors = append $errors (printf "%s.loadBalancerSourceRanges is set but %s.type is %s: source ranges apply to type LoadBalancer only" $svc $svc $s.type) }}
{{- end }}
{{- end }}
{{- if and (gt (int $v.primaryService.nodePort) 0) (eq (int $v.primaryService.nodePort) (int $v.readService.nodePort)) }}
{{- $errors = append $errors (printf "primaryService.nodePort and readService.nodePort are both %d: a node port belongs to one Service" (int $v.primaryService.nodePort)) }}
{{- end }}

{{- /* The exporter's port shares the pod with the server's (and MariaDB's backup port). */}}
{{- if $v.metrics.enabled }}
{{- if eq (int $v.metrics.port) (int $v.service.port) }}
{{- $errors = append $errors (printf "metrics.port %d is service.port too: the exporter and the server share the pod's network" (int $v.metrics.port)) }}
{{- else if and (eq $v.flavor "mariadb") (eq (int $v.metrics.port) (int $v.clone.backupPort)) }}
{{- $errors = append $errors (printf "metrics.port %d is clone.backupPort too: the exporter and the backup server share the pod's network" (int $v.metrics.port)) }}
{{- end }}
{{- end }}

{{- range $kind := list "serviceMonitor" "prometheusRule" }}
{{- if and (index $v.metrics $kind).enabled (not $v.metrics.enabled) }}
{{- $errors = append $errors (printf "metrics.%s.enabled needs metrics.enabled (there would be no exporter to scrape)" $kind) }}
{{- end }}
{{- end }}

{{- /* Extension points: names the chart uses itself would be overridden or duplicated. */}}
{{- $chartEnv := list "MAX_LAG_SECONDS" "FIRST_READY_WAIT_SECONDS" }}
{{- range concat (include "mysql.scriptEnv" . | fromYamlArray) (include "mysql.chooseConfigEnv" . | fromYamlArray) (include "mysql.prepareDataEnv" . | fromYamlArray) }}
{{- $chartEnv = append $chartEnv .name }}
{{- end }}
{{- range $i, $e := $v.extraEnvVars }}
{{- if has $e.name $chartEnv }}
{{- $errors = append $errors (printf "extraEnvVars[%d].name %s is set by the chart itself (its scripts read it); choose another name" $i $e.name) }}
{{- end }}
{{- end }}
{{- $chartVolumes := list "data" "config-source" "scripts" "secrets" "secrets-internal" "tls" "config" "kube-api" "init-sql" "run" "tmp" "exporter-config" }}
{{- range $i, $vol := $v.extraVolumes }}
{{- if has $vol.name $chartVolumes }}
{{- $errors = append $errors (printf "extraVolumes[%d].name %s is a volume of the chart (%s); choose another name" $i $vol.name (join ", " $chartVolumes)) }}
{{- end }}
{{- end }}
{{- $chartContainers := list "choose-config" "prepare-data" $v.flavor "replication" "metrics" }}
{{- range $field := list "sidecars" "initContainers" }}
{{- range $i, $c := index $v $field }}
{{- if has (toString (dig "name" "" $c)) $chartContainers }}
{{- $errors = append $errors (printf "%s[%d].name %s is a container of the chart (%s); choose another name" $field $i (toString $c.name) (join ", " $chartContainers)) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* my.cnf lines from values: they come after the chart's own, so they could silently
undo its safety settings. Option names are compared as the server reads them: case-insensitive,
'-' and '_' alike, with the prefixes --, loose-, skip-, disable-, enable-, maximum- removed. */}}
{{- $managed := dict
  "read_only" "read-only replicas"
  "super_read_only" "read-only replicas"
  "sync_binlog" "durability"
  "innodb_flush_log_at_trx_commit" "durability"
  "binlog_format" "row-based binary logs"
  "gtid_mode" "GTID replication"
  "enforce_gtid_consistency" "GTID replication"
  "gtid_strict_mode" "GTID replication"
  "log_bin" "binary logging"
  "log_replica_updates" "replicas log what they apply"
  "log_slave_updates" "replicas log what they apply"
  "server_id" "server_id = serverIdOffset + ordinal"
  "port" "the port is service.port"
  "datadir" "the data directory"
  "socket" "the server socket the scripts use"
  "relay_log_recovery" "replica crash recovery"
  "report_host" "each pod's DNS name"
  "binlog_expire_logs_seconds" "set config.binlogExpireSeconds"
  "expire_logs_days" "set config.binlogExpireSeconds"
  "skip_replica_start" "the sidecar starts replication"
  "skip_slave_start" "the sidecar starts replication"
  "bind_address" "replication, clones and probes connect over the network"
  "skip_networking" "replication, clones and probes connect over the network"
  "skip_grant_tables" "authentication"
  "plugin_load" "it would drop the clone plugin; use plugin-load-add"
}}
{{- $prefixes := list "loose_" "skip_" "disable_" "enable_" "maximum_" }}
{{- range $field := list "common" "primary" "replica" }}
{{- range $line := splitList "\n" (index $v.config $field | default "" | toString) }}
{{- $l := trim $line }}
{{- if hasPrefix "!" $l }}
{{- $errors = append $errors (printf "config.%s includes other option files (%s), which could override the settings the chart manages; remove the line" $field $l) }}
{{- else if and $l (not (hasPrefix "#" $l)) (not (hasPrefix ";" $l)) (not (hasPrefix "[" $l)) }}
{{- $name := regexReplaceAll "[\\s=].*$" $l "" }}
{{- $n := $name | lower | replace "-" "_" | trimPrefix "__" }}
{{- $found := "" }}
{{- range $i := until 5 }}
{{- if and (not $found) (hasKey $managed $n) }}{{ $found = $n }}{{ end }}
{{- $stripped := false }}
{{- range $p := $prefixes }}
{{- if and (not $stripped) (hasPrefix $p $n) }}{{ $n = trimPrefix $p $n }}{{ $stripped = true }}{{ end }}
{{- end }}
{{- end }}
{{- if $found }}
{{- $what := ternary $found (printf "%s (%s)" $name $found) (eq $name $found) }}
{{- $errors = append $errors (printf "config.%s sets %s, which the chart manages (%s); remove the line" $field $what (index $managed $found)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- if $errors }}
{{- fail (printf "\n\nInvalid values:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}

{{/*
A Kubernetes quantity (string or number) as a plain number, to compare requests with limits:
2Gi, 500m, 1.5, 1e3. Milli and negative exponents divide, so 100m equals 0.1 exactly.
*/}}
{{- define "mysql.quantityValue" -}}
{{- $q := toString . | trimPrefix "+" }}
{{- $num := regexFind "^([0-9]+([.][0-9]*)?|[.][0-9]+)" $q }}
{{- $suffix := trimPrefix $num $q }}
{{- $value := float64 $num }}
{{- $multipliers := dict "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- if eq $suffix "m" }}
{{- $value = divf $value 1000.0 }}
{{- else if hasKey $multipliers $suffix }}
{{- $value = mulf $value (index $multipliers $suffix) }}
{{- else if $suffix }}
{{- $exp := atoi (trimPrefix "+" (substr 1 -1 $suffix)) }}
{{- range until (int (ternary (sub 0 $exp) $exp (lt $exp 0))) }}
{{- $value = ternary (divf $value 10.0) (mulf $value 10.0) (lt $exp 0) }}
{{- end }}
{{- end }}
{{- $value }}
{{- end }}
