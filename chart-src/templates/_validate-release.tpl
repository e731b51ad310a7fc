{{/*
Checks against what already runs in the cluster, where Helm can look it up (install and upgrade;
`helm template` and GitOps renderers without lookup skip them, and the pods refuse a missing
password themselves, naming the key). All broken rules are reported together.
- auth.existingSecret must hold a non-empty password for every account.
- Account names cannot change on an existing release: accounts are created once, when the
  primary initialises, and replicas authenticate with the name they were given.
- The flavor cannot change on an existing release: the data directories belong to one server.
- podManagementPolicy, when set, cannot differ from the existing one: Kubernetes refuses to update
  that StatefulSet field (left empty, the existing one is kept).
*/}}
{{- define "mysql.validateRelease" -}}
{{- $errors := list }}
{{- $a := .Values.auth }}
{{- if $a.existingSecret }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace $a.existingSecret }}
{{- if $secret }}
{{- $data := $secret.data | default dict }}
{{- $required := list "mysql-root-password" "mysql-replication-password" }}
{{- if $a.username }}{{ $required = append $required "mysql-password" }}{{ end }}
{{- range $key := $required }}
{{- if not (get $data $key) }}
{{- $errors = append $errors (printf "auth.existingSecret: Secret %s has no non-empty key %s" $a.existingSecret $key) }}
{{- end }}
{{- end }}
{{- if and (hasKey $data "mysql-clone-password") (not (get $data "mysql-clone-password")) }}
{{- $errors = append $errors (printf "auth.existingSecret: Secret %s has an empty mysql-clone-password (remove the key to let the chart generate one)" $a.existingSecret) }}
{{- end }}
{{- end }}
{{- end }}
{{- $sts := lookup "apps/v1" "StatefulSet" .Release.Namespace (include "mysql.fullname" .) }}
{{- if $sts }}
{{- $env := dict }}
{{- range $c := concat ($sts.spec.template.spec.initContainers | default list) ($sts.spec.template.spec.containers | default list) }}
{{- range $e := $c.env | default list }}
{{- if has $e.name (list "REPLICATION_USER" "CLONE_USER" "APP_USER") }}{{ $_ := set $env $e.name ($e.value | default "") }}{{ end }}
{{- end }}
{{- end }}
{{- range $pair := list (list "REPLICATION_USER" "auth.replicationUser" $a.replicationUser) (list "CLONE_USER" "auth.cloneUser" $a.cloneUser) (list "APP_USER" "auth.username" $a.username) }}
{{- $var := index $pair 0 }}
{{- if and (hasKey $env $var) (ne (get $env $var) (index $pair 2)) }}
{{- $errors = append $errors (printf "%s cannot change on an existing release (%q now, %q asked): accounts are created once, when the primary initialises, and the chart does not rename them: keep the current name" (index $pair 1) (get $env $var) (index $pair 2)) }}
{{- end }}
{{- end }}
{{- range $c := $sts.spec.template.spec.containers | default list }}
{{- if and (has $c.name (list "mysql" "mariadb")) (ne $c.name $.Values.flavor) }}
{{- $errors = append $errors (printf "flavor cannot change on an existing release (%q now, %q asked): the data directories on the volumes belong to %s and the other server cannot start on them; install a new release and move the data with a dump" $c.name $.Values.flavor $c.name) }}
{{- end }}
{{- end }}
{{- if and .Values.podManagementPolicy $sts.spec.podManagementPolicy (ne $sts.spec.podManagementPolicy .Values.podManagementPolicy) }}
{{- $errors = append $errors (printf "podManagementPolicy cannot change on an existing release (%q now, %q asked): Kubernetes refuses to update that StatefulSet field; leave it empty to keep the current one" $sts.spec.podManagementPolicy .Values.podManagementPolicy) }}
{{- end }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\n\nInvalid values:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}
