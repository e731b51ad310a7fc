{{/*
Rules across several values that values.schema.json cannot express. All broken rules are
reported together in one failure.
*/}}
{{- define "mysql.validate" -}}
{{- $errors := list }}
{{- $a := .Values.auth }}
{{- if eq $a.replicationUser $a.cloneUser }}
{{- $errors = append $errors "auth.cloneUser must differ from auth.replicationUser (they hold different privileges)" }}
{{- end }}
{{- if has $a.username (list "root" $a.replicationUser $a.cloneUser) }}
{{- $errors = append $errors (printf "auth.username %q clashes with an account the chart manages (root, auth.replicationUser, auth.cloneUser)" $a.username) }}
{{- end }}
{{- if and $a.password (not $a.username) }}
{{- $errors = append $errors "auth.password is set but auth.username is empty" }}
{{- end }}
{{- if and $a.existingSecret (or $a.rootPassword $a.replicationPassword $a.clonePassword $a.password) }}
{{- $errors = append $errors "auth.existingSecret is set: leave auth.rootPassword, auth.replicationPassword, auth.clonePassword and auth.password empty (the Secret holds them)" }}
{{- end }}
{{- if and (eq .Values.flavor "mariadb") (eq (int .Values.clone.backupPort) (int .Values.service.port)) }}
{{- $errors = append $errors "clone.backupPort must differ from service.port" }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\n\nInvalid values:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}
