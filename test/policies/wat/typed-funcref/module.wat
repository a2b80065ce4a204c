;; A waPC policy that answers through typed function references (the function-references proposal:
;; a global of type (ref null $respond), ref.func, ref.as_non_null and call_ref). Node 20's V8
;; refuses such modules; Node 24 runs them. It accepts every request and every settings object, and
;; says it speaks waPC protocol v1.
(module
  (type $respond (func (param i32 i32) (result i32)))
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "{\"accepted\":true}")
  (data (i32.const 32) "{\"valid\":true}")
  (data (i32.const 64) "\"v1\"")
  ;; Mutable, so the host snapshots and restores it between calls like any other global.
  (global $answer (mut (ref null $respond)) (ref.null $respond))

  (func $respond_with (type $respond) (param $ptr i32) (param $len i32) (result i32)
    (call $guest_response (local.get $ptr) (local.get $len))
    (i32.const 1))
  (elem declare func $respond_with)

  ;; The operation is told apart by its length: "validate" (8 bytes), "protocol_version" (16) or
  ;; "validate_settings" (17). The request itself is read into memory and not looked at.
  (func (export "__guest_call") (param $operation_length i32) (param $payload_length i32) (result i32)
    (call $guest_request (i32.const 1024) (i32.const 4096))
    (global.set $answer (ref.func $respond_with))
    (if (result i32) (i32.eq (local.get $operation_length) (i32.const 8))
      (then (call_ref $respond (i32.const 0) (i32.const 17) (ref.as_non_null (global.get $answer))))
      (else
        (if (result i32) (i32.eq (local.get $operation_length) (i32.const 16))
          (then (call_ref $respond (i32.const 64) (i32.const 4) (ref.as_non_null (global.get $answer))))
          (else (call_ref $respond (i32.const 32) (i32.const 14) (ref.as_non_null (global.get $answer)))))))))
