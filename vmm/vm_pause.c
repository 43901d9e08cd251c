#include "vmm/vm_pause.h"

#include <errno.h>

#include "common/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

void vm_pause_init(struct vm_pause *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	atomic_store(&p->want, false);
	p->parked = p->exited = 0;
	p->paused = false;
}

void vm_pause_destroy(struct vm_pause *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

int vm_pause(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	if (p->paused) {
		pthread_mutex_unlock(&p->lock);
		return -EALREADY;
	}
	/* want before the kicks: a vCPU that clears immediate_exit after
	 * our kick then still sees want at the top of its loop. */
	atomic_store(&p->want, true);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_poke(&vm->vcpus[i]);
	pthread_mutex_lock(&p->lock);
	while (p->parked + p->exited < vm->nr_vcpus)
		pthread_cond_wait(&p->cond, &p->lock);
	p->paused = true;
	pthread_mutex_unlock(&p->lock);
	log_info("VM paused (%u vCPUs parked)", vm->nr_vcpus);
	return 0;
}

int vm_resume(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	if (!p->paused) {
		pthread_mutex_unlock(&p->lock);
		return -EALREADY;
	}
	p->paused = false;
	atomic_store(&p->want, false);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	log_info("VM resumed");
	return 0;
}

bool vm_is_paused(struct vm *vm)
{
	bool paused;

	pthread_mutex_lock(&vm->pause.lock);
	paused = vm->pause.paused;
	pthread_mutex_unlock(&vm->pause.lock);
	return paused;
}

void vm_pause_park(struct vcpu *v)
{
	struct vm_pause *p = &v->vm->pause;

	pthread_mutex_lock(&p->lock);
	p->parked++;
	pthread_cond_broadcast(&p->cond);
	while (atomic_load(&p->want) && !atomic_load(&v->stop))
		pthread_cond_wait(&p->cond, &p->lock);
	p->parked--;
	pthread_mutex_unlock(&p->lock);
}

void vm_pause_vcpu_exited(struct vcpu *v)
{
	struct vm_pause *p = &v->vm->pause;

	pthread_mutex_lock(&p->lock);
	p->exited++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void vm_pause_wake(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}
