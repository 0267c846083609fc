/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86-64 system call stubs of the cowstat selftests: a fork whose child
 * runs on a stack of its own, and a system call that leaves errno alone (see
 * cowstat_util.h for why each exists).
 */

#define __NR_clone	56
#define __NR_exit_group	231
#define SIGCHLD		17

	.text

/* long raw_syscall3(long nr, long a, long b, long c): result or -errno */
	.globl	raw_syscall3
	.type	raw_syscall3, @function
	.p2align 4
raw_syscall3:
	endbr64
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	syscall
	ret
	.size	raw_syscall3, .-raw_syscall3

/*
 * long fresh_fork_raw(void *stack_top, int (*fn)(void *), void *arg):
 * clone(SIGCHLD, stack_top); the child calls fn(arg) on that stack and
 * exits with its return value.  Returns the child's PID or -errno.
 */
	.globl	fresh_fork_raw
	.type	fresh_fork_raw, @function
	.p2align 4
fresh_fork_raw:
	endbr64
	movq	%rsi, %r9		/* fn: r9 survives the system call */
	movq	%rdi, %rsi		/* newsp */
	movl	$SIGCHLD, %edi		/* flags */
	xorl	%r10d, %r10d		/* child_tid (unused) */
	xorl	%r8d, %r8d		/* tls (unused) */
	movl	$__NR_clone, %eax	/* arg stays in rdx */
	syscall
	testq	%rax, %rax
	jnz	1f
	xorl	%ebp, %ebp		/* child, on the new stack */
	movq	%rdx, %rdi
	call	*%r9
	movl	%eax, %edi
	movl	$__NR_exit_group, %eax
	syscall
	hlt
1:	ret
	.size	fresh_fork_raw, .-fresh_fork_raw

	.section .note.GNU-stack, "", @progbits
